/** What an SBOM is and how many packages it lists (SPDX 2.x and CycloneDX JSON), for the officer's report. */
import { z } from 'zod';

export interface SbomFacts {
  format: 'spdx-json' | 'cyclonedx-json';
  packages: number;
}

const spdxSchema = z.looseObject({ spdxVersion: z.string(), packages: z.array(z.unknown()).optional() });
const cyclonedxSchema = z.looseObject({ bomFormat: z.literal('CycloneDX'), components: z.array(z.unknown()).optional() });
const nested = z.looseObject({ components: z.array(z.unknown()).optional() });

/** in-toto predicate types whose predicate is a whole SBOM. */
export const SBOM_PREDICATES = ['https://spdx.dev/Document', 'https://cyclonedx.org/bom'];

export function sbomFacts(document: unknown): SbomFacts | undefined {
  const spdx = spdxSchema.safeParse(document);
  if (spdx.success) return { format: 'spdx-json', packages: spdx.data.packages?.length ?? 0 };
  const cyclonedx = cyclonedxSchema.safeParse(document);
  if (cyclonedx.success) return { format: 'cyclonedx-json', packages: countComponents(cyclonedx.data.components ?? []) };
  return undefined;
}

/** CycloneDX components nest (a component's own components): every one counts. */
function countComponents(components: unknown[]): number {
  return components.reduce<number>((sum, component) => sum + 1 + countComponents(nested.safeParse(component).data?.components ?? []), 0);
}

export function parseJsonLoosely(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Site variables a release's templates need. What the site file lacks is asked for at a
 * terminal (masked when the name looks like a secret) and used for this run only; unattended
 * (--yes, or no terminal) a missing variable is an error naming it and the file that needs it.
 */
import { AirlockError } from '../base/errors.js';
import type { SiteVariables } from '../manifest/site.js';
import { askText } from '../ui/prompts.js';

export interface TemplateNeeds {
  dest: string;
  required: readonly string[];
}

/** Missing variable -> the config files (dests) that need it, in first-use order. */
export function missingVariables(needs: readonly TemplateNeeds[], variables: SiteVariables): Map<string, string[]> {
  const missing = new Map<string, string[]>();
  for (const { dest, required } of needs) {
    for (const name of required) {
      if (Object.hasOwn(variables, name)) continue;
      missing.set(name, [...(missing.get(name) ?? []), dest]);
    }
  }
  return missing;
}

const SECRET_NAME = /pass|secret|token|key|credential|pwd/i;

export async function completeVariables(
  needs: readonly TemplateNeeds[],
  variables: SiteVariables,
  options: { interactive: boolean; siteFile: string },
): Promise<SiteVariables> {
  const missing = missingVariables(needs, variables);
  if (missing.size === 0) return variables;
  if (!options.interactive) {
    const [name, dests] = missing.entries().next().value as [string, string[]];
    const others = missing.size > 1 ? ` (also missing: ${[...missing.keys()].slice(1).join(', ')})` : '';
    throw new AirlockError(
      'VARIABLE_MISSING',
      `variable ${name} is needed by config ${dests.join(', ')} but is not in ${options.siteFile} (variables:)${others}; unattended runs cannot ask for it`,
    );
  }
  const completed: SiteVariables = { ...variables };
  for (const [name, dests] of missing) {
    const message = `Value for ${name} (needed by ${dests.join(', ')}; not in the site file)`;
    completed[name] = await askText(message, SECRET_NAME.test(name));
  }
  return completed;
}

/**
 * images.yaml in a trust store: the site's own image signature policy, which wins over the
 * policy a bundle carries (keys/README.md, "Image policy"). Rules are tried in order and the first
 * whose `ref` pattern matches an image decides for it; `trustedRoot` replaces the bundle's
 * Sigstore trusted root for every keyless check.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { loadYamlFile } from '../base/yaml-file.js';
import { writtenImagePolicySchema } from '../manifest/image-policy.js';
import { parseCosignKey, type CosignKey } from './cosign-key.js';
import { IMAGE_POLICY_FILE, storeFile } from './store-schema.js';

const imagePolicyFileSchema = z.strictObject({
  /** Sigstore trusted_root.json, relative to the trust store directory. */
  trustedRoot: storeFile.optional(),
  images: z
    .array(z.strictObject({ ref: z.string().min(1), verify: writtenImagePolicySchema }))
    .default(() => []),
});

export interface SiteImageRule {
  /** `*` matches any run of characters: `registry.example/shop/*`, or `*` for every image. */
  ref: string;
  key?: CosignKey;
  identity?: string;
  issuer?: string;
  attestations: string[];
}

export interface SiteImagePolicy {
  file: string;
  rules: SiteImageRule[];
  trustedRoot?: { file: string; data: Buffer };
}

/** The policy of a store that has IMAGE_POLICY_FILE (the store checks that it does). */
export async function loadSiteImagePolicy(dir: string): Promise<SiteImagePolicy> {
  const file = join(dir, IMAGE_POLICY_FILE);
  const written = await loadYamlFile(file, imagePolicyFileSchema, 'TRUST_STORE_INVALID');
  const problems: string[] = [];
  const rules: SiteImageRule[] = [];
  for (const [index, rule] of written.images.entries()) {
    const { key: keyFile, identity, issuer, attestations } = rule.verify;
    let key: CosignKey | undefined;
    if (keyFile !== undefined) {
      try {
        key = parseCosignKey(await readStoreText(dir, keyFile), join(dir, keyFile));
      } catch (error) {
        problems.push(`${file}: images[${index}].verify.key: ${isAirlockError(error) ? error.message : String(error)}`);
        continue;
      }
    }
    rules.push({ ref: rule.ref, ...(key ? { key } : {}), ...(identity ? { identity } : {}), ...(issuer ? { issuer } : {}), attestations: attestations ?? [] });
  }
  let trustedRoot: SiteImagePolicy['trustedRoot'];
  if (written.trustedRoot !== undefined) {
    try {
      trustedRoot = { file: join(dir, written.trustedRoot), data: await readFile(join(dir, written.trustedRoot)) };
    } catch (error) {
      problems.push(`${file}: trustedRoot: cannot read ${written.trustedRoot} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (problems.length > 0) throw new AirlockError('TRUST_STORE_INVALID', problems.join('\n'));
  return { file, rules, ...(trustedRoot ? { trustedRoot } : {}) };
}

async function readStoreText(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (error) {
    throw new AirlockError('TRUST_STORE_INVALID', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The first rule whose pattern matches the ref. */
export function siteRuleFor(policy: SiteImagePolicy | undefined, ref: string): SiteImageRule | undefined {
  return policy?.rules.find((rule) => new RegExp(`^${rule.ref.split('*').map(escape).join('.*')}$`).test(ref));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

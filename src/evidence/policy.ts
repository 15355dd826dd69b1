/**
 * An image policy ready to judge with (pure): the key parsed, where the policy came from, and
 * whether a signer meets it. A keyless identity is matched whole: written `/.../` it is a regular
 * expression that must match the whole certificate SAN, otherwise the SAN must equal it.
 */
import type { ImageSigner } from '../manifest/image-policy.js';
import type { CosignKey } from '../trust/cosign-key.js';

export interface ResolvedPolicy {
  /** Where the policy came from, for messages: `the bundle`, or the site's trust-store file. */
  source: string;
  key?: CosignKey;
  identity?: string;
  issuer?: string;
  attestations: string[];
}

export function identityMatches(pattern: string, san: string): boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) return new RegExp(`^(?:${pattern.slice(1, -1)})$`).test(san);
  return pattern === san;
}

export function meetsPolicy(policy: ResolvedPolicy, signer: ImageSigner): boolean {
  if (policy.key) return 'keyId' in signer && signer.keyId === policy.key.keyId;
  return 'identity' in signer && signer.issuer === policy.issuer && identityMatches(policy.identity!, signer.identity);
}

export function requiredSigner(policy: ResolvedPolicy): string {
  return policy.key ? `a signature by key ${policy.key.keyId}` : `a signature by ${policy.identity} (issuer ${policy.issuer})`;
}

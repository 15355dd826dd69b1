/**
 * Does a set of signatures meet a policy? Pure: the signed-list verifier (signed-list.ts) has
 * already decided, for each signature, whose key it is and whether it verifies. A threshold
 * counts distinct keys, not distinct key ids: a key signing under two ids (two encodings of
 * it, or its bare key beside its certificate) is one vote.
 */
import type { ErrorCode } from '../base/errors.js';
import type { TrustPolicy } from './store.js';

export type SignatureStatus = 'valid' | 'invalid' | 'unknown-key' | 'revoked';

export interface SignatureCheck {
  /** The id the signature file is named by. */
  keyId: string;
  /** The key's identity (PublicKey.identity), when the key is known. */
  identity?: string;
  status: SignatureStatus;
  /** Who the trust store, or a trusted authority's certificate, says the key belongs to. */
  name?: string;
  roles: string[];
}

export interface CountedSigner {
  keyId: string;
  name: string;
  roles: string[];
}

export type PolicyFailureCode = Extract<ErrorCode, 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'SIGNATURE_UNTRUSTED' | 'KEY_REVOKED' | 'POLICY_THRESHOLD'>;

export interface PolicyResult {
  met: boolean;
  threshold: number;
  requiredRoles: string[];
  /** Distinct trusted, unrevoked keys with a valid signature, each key once, in input order. */
  counted: CountedSigner[];
  /** Valid signatures by a key already counted under another id: not counted again. */
  sameKey: Array<{ keyId: string; countedAs: string }>;
  /** Key ids the trust store does not know (never counted). */
  unknown: string[];
  /** Revoked key ids that signed (never counted, valid or not). */
  revoked: string[];
  /** Trusted keys whose signature did not verify. */
  invalid: string[];
  /** Required roles no counted signer holds. */
  missingRoles: string[];
  /** One line for people, when not met. */
  reason?: string;
  /** The error code a verifier raises when not met. */
  code?: PolicyFailureCode;
}

export function evaluatePolicy(policy: TrustPolicy, signatures: readonly SignatureCheck[]): PolicyResult {
  const seen = new Set<string>();
  const counted: Array<CountedSigner & { identity: string }> = [];
  const result: PolicyResult = { met: false, threshold: policy.threshold, requiredRoles: policy.requiredRoles, counted, sameKey: [], unknown: [], revoked: [], invalid: [], missingRoles: [] };
  for (const check of signatures) {
    if (seen.has(check.keyId)) continue;
    seen.add(check.keyId);
    if (check.status === 'revoked') result.revoked.push(check.keyId);
    else if (check.status === 'unknown-key') result.unknown.push(check.keyId);
    else if (check.status === 'invalid') result.invalid.push(check.keyId);
    else {
      const identity = check.identity ?? check.keyId;
      const same = counted.find((signer) => signer.identity === identity);
      // One key, one vote; it holds every role any trusted source grants it.
      if (same !== undefined) {
        result.sameKey.push({ keyId: check.keyId, countedAs: same.keyId });
        same.roles = [...new Set([...same.roles, ...check.roles])];
      } else {
        counted.push({ keyId: check.keyId, identity, name: check.name ?? check.keyId, roles: check.roles });
      }
    }
  }
  result.counted = counted.map(({ keyId, name, roles }) => ({ keyId, name, roles }));
  result.missingRoles = policy.requiredRoles.filter((role) => !counted.some((signer) => signer.roles.includes(role)));
  result.met = counted.length >= policy.threshold && result.missingRoles.length === 0;
  if (result.met) return result;
  return { ...result, code: failureCode(result, signatures.length), reason: describe(result, signatures.length) };
}

/** The most specific cause first: a broken signature by a trusted key says more than a short count. */
function failureCode(result: PolicyResult, signatureCount: number): PolicyFailureCode {
  if (signatureCount === 0) return 'SIGNATURE_MISSING';
  if (result.invalid.length > 0) return 'SIGNATURE_INVALID';
  if (result.counted.length > 0) return 'POLICY_THRESHOLD';
  if (result.revoked.length > 0) return 'KEY_REVOKED';
  return 'SIGNATURE_UNTRUSTED';
}

/** Key ids in full, as `keys list`, revoked.txt and the runbook write them. */
function describe(result: PolicyResult, signatureCount: number): string {
  if (signatureCount === 0) return 'no signatures';
  const names = result.counted.map((signer) => signer.name).join(', ');
  const parts = [`${result.counted.length} of ${result.threshold} required trusted signature(s)${names === '' ? '' : ` (${names})`}`];
  if (result.missingRoles.length > 0) parts.push(`no signature with role ${result.missingRoles.join(', ')}`);
  for (const { keyId, countedAs } of result.sameKey) parts.push(`key ${keyId} is the same key as ${countedAs} and counts once`);
  if (result.invalid.length > 0) parts.push(`invalid signature by trusted key ${result.invalid.join(', ')}`);
  if (result.revoked.length > 0) parts.push(`revoked key ${result.revoked.join(', ')}`);
  if (result.unknown.length > 0) parts.push(`unknown key ${result.unknown.join(', ')}`);
  return parts.join('; ');
}

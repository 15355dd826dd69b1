/**
 * Does a set of signatures meet the trust store's policy? Pure: the caller has already
 * checked each signature against the trust store's own copy of the key.
 */
import { AirlockError, type ErrorCode } from '../base/errors.js';
import { shortKeyId } from './key-id.js';
import type { TrustStore } from './store.js';

export interface SignatureCheck {
  keyId: string;
  /** Verified with the trust store's key (false also when there was no trusted key to check with). */
  valid: boolean;
  /** For a key the store does not list: who a trusted authority's certificate says it is (chain.ts). */
  certified?: { name: string; roles: string[] };
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
  /** Distinct trusted (listed or certified), unrevoked keys with a valid signature, each key once, in input order. */
  counted: CountedSigner[];
  /** Key ids the store does not know (never counted). */
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

export function evaluatePolicy(store: Pick<TrustStore, 'keys' | 'revoked' | 'policy'>, signatures: readonly SignatureCheck[]): PolicyResult {
  const validKeys = new Set(signatures.filter((s) => s.valid).map((s) => s.keyId));
  const certified = new Map(signatures.flatMap((s) => (s.certified === undefined ? [] : [[s.keyId, s.certified] as const])));
  const seen = new Set<string>();
  const counted: CountedSigner[] = [];
  const unknown: string[] = [];
  const revoked: string[] = [];
  const invalid: string[] = [];
  for (const { keyId } of signatures) {
    if (seen.has(keyId)) continue;
    seen.add(keyId);
    const trusted = store.keys.get(keyId) ?? certified.get(keyId);
    if (store.revoked.has(keyId)) revoked.push(keyId);
    else if (trusted === undefined) unknown.push(keyId);
    else if (!validKeys.has(keyId)) invalid.push(keyId);
    else counted.push({ keyId, name: trusted.name, roles: trusted.roles });
  }
  const { threshold, requiredRoles } = store.policy;
  const missingRoles = requiredRoles.filter((role) => !counted.some((signer) => signer.roles.includes(role)));
  const met = counted.length >= threshold && missingRoles.length === 0;
  const result: PolicyResult = { met, threshold, requiredRoles, counted, unknown, revoked, invalid, missingRoles };
  if (met) return result;
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

function ids(keyIds: string[]): string {
  return keyIds.map(shortKeyId).join(', ');
}

function describe(result: PolicyResult, signatureCount: number): string {
  if (signatureCount === 0) return 'no signatures';
  const names = result.counted.map((signer) => signer.name).join(', ');
  const parts = [`${result.counted.length} of ${result.threshold} required trusted signature(s)${names === '' ? '' : ` (${names})`}`];
  if (result.missingRoles.length > 0) parts.push(`no signature with role ${result.missingRoles.join(', ')}`);
  if (result.invalid.length > 0) parts.push(`invalid signature by trusted key ${ids(result.invalid)}`);
  if (result.revoked.length > 0) parts.push(`revoked key ${ids(result.revoked)}`);
  if (result.unknown.length > 0) parts.push(`unknown key ${ids(result.unknown)}`);
  return parts.join('; ');
}

/** The AirlockError for a policy that is not met (undefined when it is). */
export function policyError(result: PolicyResult): AirlockError | undefined {
  if (result.met || result.code === undefined) return undefined;
  return new AirlockError(result.code, `trust policy not met: ${result.reason ?? ''}`);
}

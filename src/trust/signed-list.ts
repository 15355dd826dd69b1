/**
 * The one signed-list verifier. A bundle's SHA256SUMS, each release medium's SHA256SUMS.media
 * and a trust-store update's SHA256SUMS are each a list of digests with detached signatures
 * `<keyid>.sig` over its exact bytes, and maybe the signer's key or certificate beside each
 * as `<keyid>.pem`. One set of rules decides which signatures count and whether they meet
 * the policy:
 *
 * - a `<keyid>.pem` must be PEM only, and hold the key its name says (or certificates for it);
 *   it is still only a hint: a signature counts when the policy's own copy of the key
 *   verifies it, or when the `.pem` is a certificate chaining to one of the policy's
 *   authorities (checked at `now`, chain.ts);
 * - a revoked key never counts, under any of its ids (revocation.ts);
 * - each key counts once, however many ids it signs under (policy.ts);
 * - a trusted key's signature that does not verify means the list or the signature was
 *   altered: that refuses, even when the others would meet the policy.
 */
import { isAirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import { parseCertificatesPem } from './certificate.js';
import { verifyCertifiedSigner, type CertifiedSigner } from './chain.js';
import { parsePublicKeyPem, type PublicKey } from './keys.js';
import { decodePemBlocks, isPemOnly } from './pem.js';
import { evaluatePolicy, type PolicyResult, type SignatureCheck, type SignatureStatus } from './policy.js';
import type { KeyNames } from './revocation.js';
import type { TrustedAuthority, TrustedKey, TrustPolicy, TrustStore } from './store.js';

export interface ListSignature {
  /** The id the signature file is named by. */
  keyId: string;
  signature: Buffer;
  /** Where the signature is, for messages: `signatures/<keyid>.sig`. */
  path: string;
  /** The `<keyid>.pem` beside it, if there is one. */
  pem?: { path: string; text: string };
}

/** Who may sign a list: a trust store's release policy, or its root keys for updates. */
export interface ListTrust {
  keys: ReadonlyMap<string, TrustedKey>;
  authorities: readonly TrustedAuthority[];
  isRevoked: TrustStore['isRevoked'];
  policy: TrustPolicy;
}

export interface ListSigner {
  /** Full key id, as `keys list`, revoked.txt and the runbook write it. */
  keyId: string;
  status: SignatureStatus;
  name?: string;
  roles: string[];
  /** The trusted authority whose certificate vouched for this signer, if any. */
  certifiedBy?: string;
}

export interface SignedListVerdict {
  signers: ListSigner[];
  policy: PolicyResult;
  /** Empty when the list is accepted. */
  problems: Problem[];
}

/** `list.name` names the list in messages (`SHA256SUMS`, `/media/usb1/SHA256SUMS.media`). */
export function verifySignedList(list: { name: string; bytes: Buffer }, signatures: readonly ListSignature[], trust: ListTrust, now: Date): SignedListVerdict {
  const formatProblems: Problem[] = [];
  const presented = new Map<string, { key: PublicKey; certificate: boolean }>();
  for (const signature of signatures) {
    if (signature.pem === undefined) continue;
    const read = readPresentedKey(signature.pem, signature.keyId);
    if ('problem' in read) formatProblems.push(read.problem);
    else presented.set(signature.keyId, read);
  }
  // A key revoked under the id one signature shows is revoked under the id another shows.
  const revokedIdentities = new Set([...presented.values()].filter(({ key }) => trust.isRevoked(key)).map(({ key }) => key.identity));
  const isRevoked = (key: KeyNames) => trust.isRevoked(key) || revokedIdentities.has(key.identity);

  const signers: ListSigner[] = [];
  const checks: SignatureCheck[] = [];
  const certificateProblems: Problem[] = [];
  for (const signature of signatures) {
    const { keyId } = signature;
    const listed = trust.keys.get(keyId);
    const shown = presented.get(keyId);
    const certified = listed === undefined && shown?.certificate === true && trust.authorities.length > 0
      ? certify(signature.pem!, trust, isRevoked, now, certificateProblems)
      : undefined;
    const key = listed?.publicKey ?? certified?.publicKey ?? shown?.key;
    const identity = key?.identity ?? keyId;
    const who = listed ?? certified;
    let status: SignatureStatus;
    if (isRevoked({ keyId, identity })) status = 'revoked';
    else if (who === undefined || key === undefined) status = 'unknown-key';
    else status = key.verify(list.bytes, signature.signature) ? 'valid' : 'invalid';
    const signer: ListSigner = { keyId, status, ...(who === undefined ? {} : { name: who.name }), roles: who?.roles ?? [] };
    if (certified !== undefined) signer.certifiedBy = certified.authority;
    signers.push(signer);
    checks.push({ keyId, identity, status, ...(who === undefined ? {} : { name: who.name }), roles: who?.roles ?? [] });
  }

  const policy = evaluatePolicy(trust.policy, checks);
  const problems = [...formatProblems];
  for (const [index, signer] of signers.entries()) {
    if (signer.status !== 'invalid') continue;
    const { path } = signatures[index]!;
    problems.push({
      code: 'SIGNATURE_INVALID',
      message: `${path}: does not verify over ${list.name} with trusted key ${signer.name ?? signer.keyId} (${signer.keyId}): ${list.name} or the signature was altered`,
      path,
    });
  }
  if (!policy.met && problems.length === 0) {
    problems.push(...certificateProblems);
    const by = signers.map((signer) => `${signer.keyId} (${signer.status})`).join(', ');
    problems.push({ code: policy.code ?? 'POLICY_THRESHOLD', message: `trust policy not met: ${policy.reason ?? 'not enough trusted signatures'}; signed by ${by || 'nobody'}` });
  }
  return { signers, policy, problems };
}

/** A `<keyid>.pem`: PEM only, one PUBLIC KEY or a certificate chain, and the key its name says. */
function readPresentedKey(pem: { path: string; text: string }, keyId: string): { key: PublicKey; certificate: boolean } | { problem: Problem } {
  const refuse = (why: string) => ({ problem: { code: 'BUNDLE_FORMAT' as const, message: `${pem.path}: ${why}`, path: pem.path } });
  const labels = decodePemBlocks(pem.text).map((block) => block.label);
  const certificate = labels.length > 0 && labels.every((label) => label === 'CERTIFICATE');
  if (!isPemOnly(pem.text) || !(certificate || (labels.length === 1 && labels[0] === 'PUBLIC KEY'))) {
    return refuse('expected one PUBLIC KEY, or CERTIFICATE blocks (the signer\'s first), in PEM and nothing else');
  }
  let key: PublicKey;
  try {
    if (certificate) parseCertificatesPem(pem.text, pem.path);
    key = parsePublicKeyPem(pem.text, pem.path);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    return { problem: { code: 'BUNDLE_FORMAT', message: error.message, path: pem.path } };
  }
  if (key.keyId !== keyId) return refuse(`holds key ${key.keyId}, not the key ${keyId} its name says`);
  return { key, certificate };
}

function certify(
  pem: { path: string; text: string },
  trust: ListTrust,
  isRevoked: (key: KeyNames) => boolean,
  now: Date,
  problems: Problem[],
): CertifiedSigner | undefined {
  try {
    return verifyCertifiedSigner({ authorities: trust.authorities, isRevoked }, pem.text, pem.path, now);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    problems.push({ code: error.code, message: error.message, path: pem.path });
    return undefined;
  }
}

/**
 * Which signatures over SHA256SUMS are by keys this site trusts, and whether they meet the
 * trust store's policy: the bundle's signature files handed to the one signed-list verifier
 * (src/trust/signed-list.ts), which media and trust-store updates go through as well.
 */
import type { BundleReader } from '../bundle/reader.js';
import { CHECKSUMS_PATH } from '../bundle/format.js';
import type { Problem } from '../base/problem.js';
import { verifySignedList, type ListSignature } from '../trust/signed-list.js';
import type { TrustStore } from '../trust/store.js';
import type { SignatureFiles } from './check-layout.js';
import type { PolicyReport, SignerReport } from './report.js';

export async function checkSignatures(
  reader: BundleReader,
  checksums: Buffer,
  signatures: readonly SignatureFiles[],
  trust: TrustStore,
  now: Date,
): Promise<{ problems: Problem[]; signers: SignerReport[]; policy: PolicyReport }> {
  const listed: ListSignature[] = [];
  for (const files of signatures) {
    const pem = files.publicKey && { path: files.publicKey.path, text: (await reader.readFile(files.publicKey.path)).toString('utf8') };
    listed.push({ keyId: files.keyId, signature: await reader.readFile(files.signature.path), path: files.signature.path, ...(pem ? { pem } : {}) });
  }
  const verdict = verifySignedList({ name: CHECKSUMS_PATH, bytes: checksums }, listed, trust, now);
  const { policy } = verdict;
  return {
    problems: verdict.problems,
    signers: verdict.signers,
    policy: { met: policy.met, threshold: policy.threshold, requiredRoles: policy.requiredRoles, counted: policy.counted.map((signer) => signer.keyId), reason: policy.reason },
  };
}

/**
 * Which signatures over SHA256SUMS are by keys this site trusts, and whether they meet
 * the trust store's policy. The PEM shipped beside a signature is only a hint: a signature
 * counts when the trust store's own copy of the key verifies it, or when the PEM is a
 * certificate that chains to an authority in the trust store (checked at `now`).
 */
import type { BundleReader } from '../bundle/reader.js';
import { isAirlockError } from '../base/errors.js';
import { verifyCertifiedSigner, type CertifiedSigner } from '../trust/chain.js';
import { evaluatePolicy, type SignatureCheck } from '../trust/policy.js';
import type { TrustStore } from '../trust/store.js';
import type { SignatureFiles } from './check-layout.js';
import type { PolicyReport, SignerReport } from './report.js';
import type { Problem } from '../base/problem.js';

export async function checkSignatures(
  reader: BundleReader,
  checksums: Buffer,
  signatures: readonly SignatureFiles[],
  trust: TrustStore,
  now: Date,
): Promise<{ problems: Problem[]; signers: SignerReport[]; policy: PolicyReport }> {
  const signers: SignerReport[] = [];
  const checks: SignatureCheck[] = [];
  const certificateProblems: Problem[] = [];

  for (const files of signatures) {
    const { keyId } = files;
    const signature = await reader.readFile(files.signature.path);
    const listed = trust.keys.get(keyId);
    if (trust.revoked.has(keyId)) {
      signers.push({ keyId, status: 'revoked', name: listed?.name, roles: listed?.roles ?? [] });
      checks.push({ keyId, valid: false });
      continue;
    }
    if (listed) {
      const valid = listed.publicKey.verify(checksums, signature);
      signers.push({ keyId, status: valid ? 'valid' : 'invalid', name: listed.name, roles: listed.roles });
      checks.push({ keyId, valid });
      continue;
    }
    const certified = files.publicKey && trust.authorities.length > 0 ? await certify(reader, files, trust, now, certificateProblems) : undefined;
    if (certified && certified.keyId === keyId) {
      const valid = certified.publicKey.verify(checksums, signature);
      signers.push({ keyId, status: valid ? 'valid' : 'invalid', name: certified.name, roles: certified.roles, certifiedBy: certified.authority });
      checks.push({ keyId, valid, certified: { name: certified.name, roles: certified.roles } });
      continue;
    }
    signers.push({ keyId, status: 'unknown-key', roles: [] });
    checks.push({ keyId, valid: false });
  }

  const result = evaluatePolicy(trust, checks);
  const policy: PolicyReport = {
    met: result.met,
    threshold: result.threshold,
    requiredRoles: result.requiredRoles,
    counted: result.counted.map((signer) => signer.keyId),
    reason: result.reason,
  };

  // A trusted key's signature that does not verify means SHA256SUMS or the signature was
  // altered: refuse even when other signatures would meet the policy.
  const problems: Problem[] = signers
    .filter((signer) => signer.status === 'invalid')
    .map((signer) => ({
      code: 'SIGNATURE_INVALID' as const,
      message: `signatures/${signer.keyId}.sig: does not verify over SHA256SUMS with trusted key ${signer.name ?? signer.keyId} (SHA256SUMS or the signature was altered)`,
      path: `signatures/${signer.keyId}.sig`,
    }));
  if (!result.met && problems.length === 0) {
    problems.push(...certificateProblems);
    const who = signers.map((signer) => `${signer.keyId.slice(0, 16)} (${signer.status})`).join(', ');
    problems.push({ code: result.code ?? 'POLICY_THRESHOLD', message: `trust policy not met: ${result.reason ?? 'not enough trusted signatures'}; signed by ${who || 'nobody'}` });
  }
  return { problems, signers, policy };
}

async function certify(
  reader: BundleReader,
  files: SignatureFiles,
  trust: TrustStore,
  now: Date,
  problems: Problem[],
): Promise<CertifiedSigner | undefined> {
  const path = files.publicKey!.path;
  const pem = (await reader.readFile(path)).toString('utf8');
  if (!pem.includes('BEGIN CERTIFICATE')) return undefined;
  try {
    return verifyCertifiedSigner(trust, pem, path, now);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    problems.push({ code: error.code, message: error.message, path });
    return undefined;
  }
}

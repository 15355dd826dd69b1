/** What a verification found, in a form both people (--json aside) and the installer use. */
import { AirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import type { ImageEvidence } from '../evidence/evaluate.js';

export type SignatureStatus = 'valid' | 'invalid' | 'unknown-key' | 'revoked';

export interface SignerReport {
  keyId: string;
  status: SignatureStatus;
  name?: string;
  roles: string[];
  /** The trusted authority whose certificate vouched for this signer, if any. */
  certifiedBy?: string;
}

export interface PolicyReport {
  met: boolean;
  threshold: number;
  requiredRoles: string[];
  counted: string[];
  reason?: string;
}

export interface VerificationReport {
  bundle: string;
  ok: boolean;
  problems: Problem[];
  signers: SignerReport[];
  policy?: PolicyReport;
  /** Present once airlock.json has been checked against SHA256SUMS and parsed. */
  manifest?: BundleManifest;
  /** path -> hex digest from the signed SHA256SUMS (empty if the signature failed). */
  checksums: Map<string, string>;
  /** Hex SHA-256 of SHA256SUMS: the identity of this release's content. */
  checksumsDigest?: string;
  /** Each image's upstream signatures, attestations, SBOMs and policy verdict, once the payload verified. */
  images?: ImageEvidence[];
}

/** A signer whose signature counted, as state, journal, audit and receipt record it. */
export interface Signer {
  keyId: string;
  name?: string;
  roles: string[];
}

export function validSigners(report: VerificationReport): Signer[] {
  return report.signers
    .filter((signer) => signer.status === 'valid')
    .map((signer) => ({ keyId: signer.keyId, ...(signer.name === undefined ? {} : { name: signer.name }), roles: signer.roles }));
}

/** The error a report's problems come to: the first one, with the others listed as detail. */
export function refusal(report: VerificationReport): AirlockError {
  const [first, ...rest] = report.problems;
  if (!first) return new AirlockError('INTERNAL', `${report.bundle}: refused without a problem`);
  const detail = rest.length > 0 ? rest.map((problem) => `${problem.code}: ${problem.message}`).join('\n') : undefined;
  return new AirlockError(first.code, first.message, { detail });
}

/** Throws the report's refusal if the bundle did not verify. */
export function assertVerified(report: VerificationReport): asserts report is VerificationReport & { manifest: BundleManifest } {
  if (report.problems.length > 0) throw refusal(report);
  if (!report.manifest) throw new AirlockError('INTERNAL', `${report.bundle}: verified without a manifest`);
}

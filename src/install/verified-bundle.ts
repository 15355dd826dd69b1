/**
 * A bundle that passed verification (its expiry aside, if the operator said so), as the
 * installer reads it. Every file taken from it is hashed again against the signed
 * SHA256SUMS as it is read: the media could change between verification and use, and
 * nothing unverified may reach the site.
 */
import type { Readable } from 'node:stream';
import type { BundleReader } from '../bundle/reader.js';
import { openBundle } from '../media/open-bundle.js';
import { AirlockError } from '../base/errors.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { sha256Hex, verifiedStream } from '../hash/digest.js';
import type { TrustStore } from '../trust/store.js';
import { assertVerified, type SignerReport, type VerificationReport } from '../verify/report.js';
import type { Problem } from '../base/problem.js';
import { verifyBundle, verifySignedListing } from '../verify/verifier.js';
import { waiveExpiry } from './checks.js';

export interface VerifiedBundle {
  readonly file: string;
  readonly reader: BundleReader;
  readonly manifest: BundleManifest;
  /** sha256 of SHA256SUMS: the bundle's identity in state, journal, audit and receipt. */
  readonly digest: string;
  readonly signers: Array<{ keyId: string; name?: string; roles: string[] }>;
  /** Verification problems the operator's flags set aside (an expired bundle under --allow-expired), and those flags. */
  readonly waived: readonly Problem[];
  readonly overrides: readonly string[];
  /** sha256 hex of a payload file, from the signed SHA256SUMS. */
  checksum(path: string): string;
  read(path: string): Promise<Buffer>;
  /** A large file, checked against SHA256SUMS as it streams: it fails after its last byte if it changed. */
  stream(path: string): Readable;
}

function signersOf(report: VerificationReport): VerifiedBundle['signers'] {
  return report.signers
    .filter((signer: SignerReport) => signer.status === 'valid')
    .map((signer) => ({ keyId: signer.keyId, ...(signer.name === undefined ? {} : { name: signer.name }), roles: signer.roles }));
}

/** The outcome of verification: a usable bundle, or the report of why not (for the audit log). */
export type Verification = { ok: true; bundle: VerifiedBundle } | { ok: false; report?: VerificationReport; error: AirlockError };

export async function openVerified(file: string, trust: TrustStore, options: { now: Date; allowExpired: boolean }): Promise<Verification> {
  let reader: BundleReader;
  try {
    reader = await openBundle(file);
  } catch (error) {
    if (error instanceof AirlockError) return { ok: false, error };
    throw error;
  }
  let report: VerificationReport | undefined;
  try {
    report = await verifyBundle(reader, trust, { now: options.now });
    const { problems, waived, overrides } = waiveExpiry(report.problems, options.allowExpired);
    const accepted = { ...report, ok: problems.length === 0, problems };
    assertVerified(accepted);
    return { ok: true, bundle: verifiedBundle(file, reader, accepted, { waived, overrides }) };
  } catch (error) {
    await reader.close();
    if (error instanceof AirlockError) return { ok: false, ...(report ? { report } : {}), error };
    throw error;
  }
}

/**
 * The bundle's identity (sha256 of SHA256SUMS) when its signatures meet the trust policy,
 * read without hashing any payload: enough to recognise the release a site already has.
 * Undefined when it does not verify; the full verification then says why.
 */
export async function signedIdentity(file: string, trust: TrustStore, now: Date): Promise<string | undefined> {
  const reader = await openBundle(file).catch((error: unknown) => {
    if (error instanceof AirlockError) return undefined;
    throw error;
  });
  if (reader === undefined) return undefined;
  try {
    const report = await verifySignedListing(reader, trust, { now });
    return report.ok ? report.checksumsDigest : undefined;
  } finally {
    await reader.close();
  }
}

function verifiedBundle(
  file: string,
  reader: BundleReader,
  report: VerificationReport & { manifest: BundleManifest },
  waivers: Pick<VerifiedBundle, 'waived' | 'overrides'>,
): VerifiedBundle {
  const checksum = (path: string): string => {
    const hex = report.checksums.get(path);
    if (hex === undefined) throw new AirlockError('FILE_MISSING', `${file}: airlock.json names ${path}, which SHA256SUMS does not list`);
    return hex;
  };
  const changed = (path: string) => new AirlockError('DIGEST_MISMATCH', `${file}: ${path} changed after verification (sha256 no longer matches SHA256SUMS)`);
  return {
    file,
    reader,
    manifest: report.manifest,
    digest: report.checksumsDigest ?? '',
    signers: signersOf(report),
    ...waivers,
    checksum,
    async read(path: string): Promise<Buffer> {
      const expected = checksum(path);
      const data = await reader.readFile(path);
      if (sha256Hex(data) !== expected) throw changed(path);
      return data;
    },
    stream(path: string): Readable {
      return verifiedStream(reader.createReadStream(path), checksum(path), () => changed(path));
    },
  };
}

/**
 * Verifies a bundle as a few small, named checks, in the order that makes each one
 * meaningful: layout, then signatures over SHA256SUMS (nothing is trusted before this),
 * then every file's digest, then airlock.json's content (every tar header's mtime is its
 * `created`, every file it names under its kind's prefix) and expiry. Fails closed: a
 * step whose input could not be trusted stops the checks after it.
 */
import { CHECKSUMS_PATH } from '../bundle/format.js';
import { parseChecksums } from '../bundle/checksums.js';
import type { BundleReader } from '../bundle/reader.js';
import { isAirlockError } from '../base/errors.js';
import { sha256Hex } from '../hash/digest.js';
import type { TrustStore } from '../trust/store.js';
import { checkContents } from './check-contents.js';
import { checkExpiry } from './check-freshness.js';
import { checkHeaderTimes } from './check-headers.js';
import { checkLayout } from './check-layout.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { checkManifestPaths } from './check-paths.js';
import { checkSignatures } from './check-signatures.js';
import type { VerificationReport } from './report.js';

export interface VerifyOptions {
  now: Date;
  onProgress?: (bytes: number) => void;
}

/**
 * Layout, signatures over SHA256SUMS, and SHA256SUMS parsed: who vouches for which file list.
 * No file's content is read; verifyBundle goes on from here.
 */
export async function verifySignedListing(reader: BundleReader, trust: TrustStore, options: VerifyOptions): Promise<VerificationReport> {
  const report: VerificationReport = { bundle: reader.file, ok: false, problems: [], signers: [], checksums: new Map() };

  const layout = checkLayout(reader.entries, reader.file);
  report.problems.push(...layout.problems);
  if (report.problems.length > 0) return report;

  const checksumsBytes = await reader.readFile(CHECKSUMS_PATH);
  report.checksumsDigest = sha256Hex(checksumsBytes);
  const signatures = await checkSignatures(reader, checksumsBytes, layout.signatures, trust, options.now);
  report.signers = signatures.signers;
  report.policy = signatures.policy;
  report.problems.push(...signatures.problems);
  if (report.problems.length > 0) return report;

  try {
    report.checksums = parseChecksums(checksumsBytes);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    report.problems.push({ code: error.code, message: error.message, path: CHECKSUMS_PATH });
    return report;
  }
  report.ok = true;
  return report;
}

export async function verifyBundle(reader: BundleReader, trust: TrustStore, options: VerifyOptions): Promise<VerificationReport> {
  const report = await verifySignedListing(reader, trust, options);
  if (!report.ok) return report;
  report.ok = false;
  report.problems.push(...(await checkContents(reader, report.checksums, options.onProgress)));
  if (report.problems.length > 0) return report;

  try {
    report.manifest = await readBundleManifest(reader);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    report.problems.push({ code: error.code, message: error.message, path: 'airlock.json' });
    return report;
  }
  report.problems.push(...checkHeaderTimes(reader.entries, report.manifest.created, reader.file));
  report.problems.push(...checkManifestPaths(report.manifest, report.checksums));
  report.problems.push(...checkExpiry(report.manifest, options.now));
  report.ok = report.problems.length === 0;
  return report;
}

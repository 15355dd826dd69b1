/**
 * A bundle's checks as a few small, named steps, in the order that makes each one meaningful,
 * in two stages. Fails closed: a step whose input could not be trusted stops the steps after it.
 *
 *   signed listing  layout, signatures over SHA256SUMS and the trust policy (nothing is trusted
 *                   before this), SHA256SUMS parsed, airlock.json against its line, every tar
 *                   header's mtime its `created`, every file it names under its kind's prefix,
 *                   expiry.
 *                   No payload byte is read but airlock.json's.
 *   payload         every file's digest against SHA256SUMS, nothing missing, nothing extra:
 *                   every byte of the bundle hashed once, on every core (check-contents.ts).
 *
 * Which stages run, and what becomes of the problems, is the caller's strategy (load-verified.ts).
 */
import { CHECKSUMS_PATH } from '../bundle/format.js';
import { parseChecksums } from '../bundle/checksums.js';
import type { BundleReader } from '../bundle/reader.js';
import { isAirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import { sha256Hex } from '../hash/digest.js';
import type { TrustStore } from '../trust/store.js';
import { checkExpiry } from './check-freshness.js';
import { checkHeaderTimes } from './check-headers.js';
import { checkLayout, type SignatureFiles } from './check-layout.js';
import { checkManifest } from './check-manifest.js';
import { checkManifestPaths } from './check-paths.js';
import { checkSignatures } from './check-signatures.js';
import type { VerificationReport } from './report.js';

export interface ListingResult {
  /** Problems of the listing stage, expiry excepted: any of them means nothing in the bundle can be trusted. */
  report: VerificationReport;
  /** Past its signed expiry: a verdict on a release that is otherwise vouched for, which an installer may waive. */
  expiry: Problem[];
  signatures: SignatureFiles[];
}

/** The entry order alone: which signature files lead the bundle. No signature is checked. */
export function checkBundleLayout(reader: BundleReader): { report: VerificationReport; signatures: SignatureFiles[] } {
  const layout = checkLayout(reader.entries, reader.file);
  return { report: { ...emptyReport(reader.file), problems: layout.problems }, signatures: layout.signatures };
}

export async function checkSignedListing(reader: BundleReader, trust: TrustStore, now: Date): Promise<ListingResult> {
  const { report, signatures: files } = checkBundleLayout(reader);
  const stopped = { report, expiry: [], signatures: files };
  if (report.problems.length > 0) return stopped;
  if (!(await checkChecksums(reader, files, trust, now, report))) return stopped;

  const manifest = await checkManifest(reader, report.checksums);
  report.problems.push(...manifest.problems);
  if (manifest.manifest === undefined) return stopped;
  report.problems.push(...checkHeaderTimes(reader.entries, manifest.manifest.created, reader.file));
  report.problems.push(...checkManifestPaths(manifest.manifest, report.checksums));
  if (report.problems.length > 0) return stopped;
  report.manifest = manifest.manifest;
  report.ok = true;
  return { report, expiry: checkExpiry(manifest.manifest, now), signatures: files };
}

/**
 * SHA256SUMS: signed by keys the policy accepts, then parsed into the report. Its bytes are
 * this function's alone, so they are garbage before airlock.json is read (20 MB at scale).
 */
async function checkChecksums(reader: BundleReader, files: readonly SignatureFiles[], trust: TrustStore, now: Date, report: VerificationReport): Promise<boolean> {
  const checksumsBytes = await reader.readFile(CHECKSUMS_PATH);
  report.checksumsDigest = sha256Hex(checksumsBytes);
  const signatures = await checkSignatures(reader, checksumsBytes, files, trust, now);
  report.signers = signatures.signers;
  report.policy = signatures.policy;
  report.problems.push(...signatures.problems);
  if (report.problems.length > 0) return false;
  try {
    report.checksums = parseChecksums(checksumsBytes, (path) => (reader.has(path) ? reader.entry(path).path : undefined));
    return true;
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    report.problems.push({ code: error.code, message: error.message, path: CHECKSUMS_PATH });
    return false;
  }
}

export function emptyReport(bundle: string): VerificationReport {
  return { bundle, ok: false, problems: [], signers: [], checksums: new Map() };
}

/**
 * Reads what the report shows out of an opened bundle. Files shown in full (configs,
 * migrations, hooks) are hashed as they are read, so a report of an unverified bundle
 * still says when the text shown is not what SHA256SUMS lists.
 */
import { basename } from 'node:path';
import { parseChecksums } from '../bundle/checksums.js';
import { CHECKSUMS_PATH, comparePaths, isSignaturePath, signatureKeyIds } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import type { BundleImage, HookPhase } from '../manifest/bundle-manifest.js';
import { sha256Hex } from '../hash/digest.js';
import { VERSION } from '../base/version.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { deltaView } from '../images/delta-view.js';
import { bundleBlobSource } from '../images/push/blob-source.js';
import type { VerificationReport } from '../verify/report.js';
import { REPORT_FORMAT, type FileContent, type ReportFile, type ReportListing, type ReportModel, type ReportVerification } from './model.js';
import { countHidden } from './visible-text.js';
import { releaseSbom } from './sbom.js';
import { describePolicy } from '../manifest/image-policy.js';
import { isHealthGate } from '../manifest/health-gate.js';
import { describeGate } from '../telemetry/gate-condition.js';
import type { ReportImage } from './model.js';

/** Larger files are listed by digest only: a report is read by people and kept in a file. */
export const MAX_SHOWN_BYTES = 4 * 1024 * 1024;

const HOOK_PHASES: HookPhase[] = ['preInstall', 'postInstall', 'healthCheck'];

export interface CollectOptions {
  now: Date;
  /** The result of a real verification, with the trust store it used; absent when signatures were not checked. */
  verified?: { report: VerificationReport; trustStore: string };
}

export async function collectReport(reader: BundleReader, options: CollectOptions): Promise<ReportModel> {
  const manifest = await readBundleManifest(reader);
  const checksumsBytes = await reader.readFile(CHECKSUMS_PATH);
  const checksums = parseChecksums(checksumsBytes);
  const show = (path: string) => readShownFile(reader, path, checksums.get(path) ?? null);

  const configs = [];
  for (const [environment, files] of Object.entries(manifest.configs)) {
    for (const file of files) configs.push({ environment, dest: file.dest, mode: file.mode, template: file.template, ...(await show(file.path)) });
  }
  const migrations = [];
  for (const [database, list] of Object.entries(manifest.migrations)) {
    for (const migration of list) {
      migrations.push({
        database,
        version: migration.version,
        description: migration.description,
        ...(await show(migration.path)),
        undo: migration.undo === undefined ? null : await show(migration.undo),
      });
    }
  }
  const hooks = [];
  for (const phase of HOOK_PHASES) {
    for (const hook of manifest.hooks[phase]) {
      if ('path' in hook) hooks.push({ phase, name: hook.name, timeoutSeconds: hook.timeoutSeconds, ...(await show(hook.path)) });
    }
  }

  const images = reportImages(manifest.images, options.verified?.report);
  return {
    format: REPORT_FORMAT,
    generated: options.now.toISOString(),
    tool: { name: 'airlock', version: VERSION },
    bundle: { file: basename(reader.file), size: reader.size },
    release: {
      name: manifest.name,
      version: manifest.version,
      created: manifest.created,
      expires: manifest.expires,
      expired: manifest.expires !== null && new Date(manifest.expires).getTime() <= options.now.getTime(),
      onHealthCheckFailure: manifest.onHealthCheckFailure,
      builtBy: `${manifest.builtBy.tool} ${manifest.builtBy.version}`,
    },
    targets: manifest.targets,
    signatureFiles: signatureKeyIds(reader.entries.map((entry) => entry.path)),
    verification: verificationOf(options),
    checksumsDigest: sha256Hex(checksumsBytes),
    images,
    sbom: releaseSbom({ manifest, checksums, checksumsDigest: sha256Hex(checksumsBytes), evidence: new Map(images.map((image) => [image.ref, image.judged])) }),
    delta: (await deltaView(bundleBlobSource(reader), manifest, reader.size)) ?? null,
    configs,
    migrations,
    hooks,
    gates: manifest.hooks.healthCheck.filter(isHealthGate).map((gate) => ({ name: gate.name, query: gate.query, rule: describeGate(gate) })),
    listing: listing(reader, checksums),
  };
}

function reportImages(images: readonly BundleImage[], verification: VerificationReport | undefined): ReportImage[] {
  return images.map((image) => {
    const judged = verification?.images?.find((candidate) => candidate.ref === image.ref);
    if (judged) {
      const { signers, attestations, sboms, verdict, policy, notes } = judged;
      return { ...image, judged: { signers, attestations, sboms, verdict, policy: policy && `${policy.description} (${policy.source})`, notes } };
    }
    const recorded = image.evidence ?? { signers: [], attestations: [], sboms: [] };
    return { ...image, judged: { ...recorded, verdict: 'unchecked', policy: image.verify ? `${describePolicy(image.verify)} (not checked)` : null, notes: [] } };
  });
}

function verificationOf(options: CollectOptions): ReportVerification {
  if (!options.verified) return { checked: false };
  const { report, trustStore } = options.verified;
  return {
    checked: true,
    ok: report.ok,
    trustStore,
    at: options.now.toISOString(),
    signers: report.signers,
    policy: report.policy ?? null,
    problems: report.problems,
  };
}

async function readShownFile(reader: BundleReader, path: string, sha256: string | null): Promise<ReportFile> {
  if (!reader.has(path)) return { path, size: null, sha256, matchesChecksum: null, content: { kind: 'missing' } };
  const { size } = reader.entry(path);
  if (size > MAX_SHOWN_BYTES) return { path, size, sha256, matchesChecksum: null, content: { kind: 'too-large', limit: MAX_SHOWN_BYTES } };
  const data = await reader.readFile(path);
  return { path, size, sha256, matchesChecksum: sha256 === null ? null : sha256Hex(data) === sha256, content: decode(data) };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decode(data: Buffer): FileContent {
  if (data.includes(0)) return { kind: 'binary' };
  try {
    const text = UTF8.decode(data);
    return { kind: 'text', text, hiddenCharacters: countHidden(text) };
  } catch {
    return { kind: 'binary' };
  }
}

/** Every payload path either SHA256SUMS lists or the tar holds, so unlisted and missing files stand out. */
function listing(reader: BundleReader, checksums: ReadonlyMap<string, string>): ReportListing[] {
  const rows = new Map<string, ReportListing>();
  for (const [path, sha256] of checksums) rows.set(path, { path, sha256, size: null });
  for (const entry of reader.entries) {
    if (entry.path === CHECKSUMS_PATH || isSignaturePath(entry.path)) continue;
    rows.set(entry.path, { path: entry.path, sha256: checksums.get(entry.path) ?? null, size: entry.size });
  }
  return [...rows.values()].sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * `airlock inspect`: what a bundle holds, read without a trust store. Nothing shown is
 * vouched for until `airlock verify` says so, and the output says as much.
 */
import { AirlockError } from '../base/errors.js';
import { parseChecksums } from '../bundle/checksums.js';
import { contentKind, type ContentKind } from '../bundle/content-kind.js';
import { CHECKSUMS_PATH, isSignaturePath, signatureKeyIds } from '../bundle/format.js';
import { openBundle } from '../media/open-bundle.js';
import { sha256Hex } from '../hash/digest.js';
import { humanBytes, shortDigest, table } from '../ui/format.js';
import type { Output } from '../ui/output.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { describeBase } from '../manifest/delta.js';
import { deltaView, type DeltaView } from '../images/delta-view.js';
import { bundleBlobSource } from '../images/push/blob-source.js';
import { inspectReportCommand, wantsReport, type ReportOptions } from './inspect-report.js';
import { inspectSbomCommand } from './inspect-sbom.js';

export interface InspectOptions extends ReportOptions {
  json?: boolean;
  /** Print the release's SBOM in this format (cyclonedx) instead of the listing. */
  sbom?: string;
}

const KIND_TITLES: Record<ContentKind, string> = {
  manifest: 'manifest',
  config: 'configs',
  migration: 'migrations',
  hook: 'hooks',
  image: 'image layout (OCI)',
  'image-policy': 'image policy (keys, Sigstore trusted root)',
  other: 'other',
};

export async function inspectCommand(output: Output, bundle: string, options: InspectOptions): Promise<void> {
  if (options.sbom !== undefined) {
    if (options.report !== undefined || options.format !== undefined) throw new AirlockError('USAGE', '--sbom prints the SBOM; the report (--report) embeds it already');
    return inspectSbomCommand(output, bundle, options);
  }
  if (wantsReport(options)) return inspectReportCommand(output, bundle, options);
  const reader = await openBundle(bundle);
  try {
    const manifest = await readBundleManifest(reader);
    const checksumsBytes = await reader.readFile(CHECKSUMS_PATH);
    const checksums = parseChecksums(checksumsBytes);
    const signers = signatureKeyIds(reader.entries.map((entry) => entry.path));
    const delta = await deltaView(bundleBlobSource(reader), manifest, reader.size);
    const files = reader.entries
      .filter((entry) => entry.path !== CHECKSUMS_PATH && !isSignaturePath(entry.path))
      .map((entry) => ({ path: entry.path, kind: contentKind(entry.path), size: entry.size, sha256: checksums.get(entry.path) ?? null }));

    output.result({
      bundle,
      verified: false,
      size: reader.size,
      checksumsDigest: sha256Hex(checksumsBytes),
      release: { name: manifest.name, version: manifest.version, created: manifest.created, expires: manifest.expires },
      targets: manifest.targets,
      signers,
      images: manifest.images,
      delta: delta ?? null,
      configs: manifest.configs,
      migrations: manifest.migrations,
      hooks: manifest.hooks,
      files,
    });

    output.say(`${manifest.name} ${manifest.version}   (${humanBytes(reader.size)}, not verified: run airlock verify)`);
    output.say(`created   ${manifest.created}`);
    output.say(`expires   ${manifest.expires ?? 'never'}`);
    output.say(`targets   sites ${list(manifest.targets.sites)}; environments ${list(manifest.targets.environments)}`);
    output.say(`signers   ${signers.length === 0 ? 'none' : signers.join('\n          ')}`);
    output.say(`content   SHA256SUMS sha256 ${sha256Hex(checksumsBytes)}`);
    if (delta) for (const line of deltaLines(delta)) output.say(line);
    if (manifest.images.length > 0) {
      output.say('images');
      for (const line of table(manifest.images.map((image) => [image.ref, image.digest, image.platforms.join(',') || '-', humanBytes(image.size)]))) output.say(line);
    }
    for (const kind of Object.keys(KIND_TITLES) as ContentKind[]) {
      const ofKind = files.filter((file) => file.kind === kind);
      if (ofKind.length === 0) continue;
      const total = ofKind.reduce((sum, file) => sum + file.size, 0);
      output.say(`${KIND_TITLES[kind]}: ${ofKind.length} file${ofKind.length === 1 ? '' : 's'}, ${humanBytes(total)}`);
      const shown = kind === 'image' ? ofKind.filter((file) => !file.path.startsWith('blobs/')) : ofKind;
      for (const line of table(shown.map((file) => [file.path, humanBytes(file.size), file.sha256 ? shortDigest(file.sha256) : 'NOT LISTED']), '    ')) {
        output.say(line);
      }
      if (shown.length < ofKind.length) output.say(`    … and ${ofKind.length - shown.length} blobs (--json lists them)`);
    }
  } finally {
    await reader.close();
  }
}

function deltaLines(delta: DeltaView): string[] {
  return [
    `delta     against ${delta.bases.map(describeBase).join(' and ')}`,
    `          ${humanBytes(delta.bundleBytes)} here; the full bundle ≈ ${humanBytes(delta.fullBytes)}: ${delta.omitted.length} layer blob(s), ${humanBytes(delta.omittedBytes)}, left out as held by the site`,
    ...table(
      delta.images.map((image) => [image.ref, `${image.omitted.length} of its blobs left out`, `${humanBytes(image.omittedBytes)} of ${humanBytes(image.size)}`]),
      '          ',
    ),
  ];
}

function list(values: string[]): string {
  return values.length === 0 ? 'any' : values.join(', ');
}

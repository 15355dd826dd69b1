/**
 * `airlock inspect <bundle> --sbom cyclonedx`: the release's SBOM on stdout (CycloneDX 1.6 JSON).
 * Without --trust it describes the bundle as airlock.json and SHA256SUMS say, with the upstream
 * evidence the build recorded; with --trust the bundle is verified first (a rejected bundle gets
 * no SBOM) and the evidence is the one verify just judged.
 */
import { AirlockError } from '../base/errors.js';
import { parseChecksums } from '../bundle/checksums.js';
import { CHECKSUMS_PATH } from '../bundle/format.js';
import { sha256Hex } from '../hash/digest.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { openBundle } from '../media/open-bundle.js';
import { releaseSbom } from '../report/sbom.js';
import { loadTrustStore } from '../trust/store.js';
import type { Output } from '../ui/output.js';
import { withVerified } from '../verify/load-verified.js';
import { assertVerified } from '../verify/report.js';

export interface SbomOptions {
  sbom?: string;
  trust?: string;
}

export async function inspectSbomCommand(output: Output, bundle: string, options: SbomOptions): Promise<void> {
  if (options.sbom !== 'cyclonedx') throw new AirlockError('USAGE', `--sbom: expected cyclonedx, not ${JSON.stringify(options.sbom)}`);
  const sbom = options.trust === undefined ? await unverifiedSbom(bundle) : await verifiedSbom(bundle, options.trust);
  output.result(JSON.parse(sbom) as unknown);
  output.say(sbom.trimEnd());
}

async function unverifiedSbom(bundle: string): Promise<string> {
  const reader = await openBundle(bundle);
  try {
    const manifest = await readBundleManifest(reader);
    const checksumsBytes = await reader.readFile(CHECKSUMS_PATH);
    const evidence = new Map(manifest.images.map((image) => [image.ref, image.evidence]));
    return releaseSbom({ manifest, checksums: parseChecksums(checksumsBytes), checksumsDigest: sha256Hex(checksumsBytes), evidence });
  } finally {
    await reader.close();
  }
}

async function verifiedSbom(bundle: string, trustDir: string): Promise<string> {
  const trust = await loadTrustStore(trustDir);
  const report = await withVerified(bundle, { checks: 'payload', trust, now: new Date(), allowExpired: false, unreadable: 'throw' }, (loaded) => loaded.report);
  assertVerified(report);
  const evidence = new Map((report.images ?? []).map((image) => [image.ref, image]));
  return releaseSbom({ manifest: report.manifest, checksums: report.checksums, checksumsDigest: report.checksumsDigest!, evidence });
}

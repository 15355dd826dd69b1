/**
 * `airlock build` from end to end: manifest -> payload and airlock.json -> signed bundle.
 * Everything that can be refused (manifest, source files, keys) is checked before the
 * first byte is written, so a failed build leaves nothing behind.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BLOBS_DIR, bundleFileName } from '../bundle/format.js';
import { writeBundle, type WriteBundleInput, type WrittenBundle } from '../bundle/write.js';
import type { CredentialMap } from '../images/registry/credentials.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { loadReleaseManifest, type ReleaseManifest } from '../manifest/release.js';
import type { PayloadFile } from '../bundle/payload.js';
import type { PackedRelease } from './pack-release.js';
import type { BaseHoldings } from './delta-bases.js';
import { digestHex } from '../oci/digest.js';
import type { SigningKey } from '../trust/keys.js';
import type { Output } from '../ui/output.js';
import { VERSION } from '../base/version.js';
import { collectRelease } from './collect-release.js';
import { resolveCreated } from './created-time.js';
import { buildBundleManifest, manifestBytes, type BundleFacts } from './describe-bundle.js';
import { bundleSigner } from './signers.js';

export interface BuildRequest {
  manifestFile: string;
  outDir: string;
  /** Loaded lazily, after the manifest and its files passed, so a bad manifest never asks for a passphrase. */
  loadKeys: () => Promise<SigningKey[]>;
  /**
   * Unlocking the keys asks no one (the passphrase is in a file or the environment): they are
   * unlocked from the start, PBKDF2 (~0.2 s) on the thread pool while this thread lists the sources.
   */
  unlockEarly?: boolean;
  cacheDir: string;
  platforms?: string[];
  /** Registry host -> credentials, for registries that need a login at build. */
  credentials?: CredentialMap;
  /** `--since`: receipts, earlier bundles or media the delta is cut against; none builds the full bundle. */
  since?: readonly string[];
  env: NodeJS.ProcessEnv;
  output: Output;
  onProgress?: WriteBundleInput['onProgress'];
}

/** The parts of airlock.json the build reports. */
export type BuildSummary = Pick<BundleManifest, 'name' | 'version' | 'created' | 'expires' | 'images' | 'delta'>;

export interface BuildResult extends WrittenBundle {
  manifest: BuildSummary;
  signers: string[];
}

export async function buildRelease(request: BuildRequest): Promise<BuildResult> {
  const unlocking = request.unlockEarly === true ? request.loadKeys() : undefined;
  // Its failure is reported after any of the manifest or its sources, as in a build that unlocks them late.
  unlocking?.catch(() => undefined);
  const release = await loadReleaseManifest(request.manifestFile);
  const collected = await collectRelease(request.manifestFile, release);
  // Images and deltas bring registries, OCI, sigstore and policy code: loaded only for a release that has them, so a
  // release of files starts quickly.
  const since = request.since ?? [];
  const bases = since.length === 0 ? [] : await import('./delta-bases.js').then(({ readBase }) => Promise.all(since.map(readBase)));
  const keys = await (unlocking ?? request.loadKeys());
  // A release without images carries no OCI layout at all, and touches no image cache.
  const { images, judged } = release.images.length === 0 ? { images: { files: [], images: [] }, judged: { images: [], files: [] } } : await packImages(release, request);
  // A delta of a release without images leaves nothing out, and says so.
  const delta = bases.length === 0 ? undefined : await planDeltaOf(images.files, bases);
  const left = new Set(delta?.omitted.map((blob) => `${BLOBS_DIR}${digestHex(blob.digest)}`));
  const created = resolveCreated(release, request.env, collected.newestInputMs);
  const payload = [...collected.files, ...images.files.filter((file) => !left.has(file.path)), ...judged.files];
  const { summary, bytes } = describe(release, collected, {
    created,
    images: judged.images,
    ...(judged.trustedRoot ? { trustedRoot: judged.trustedRoot } : {}),
    builtBy: { tool: 'airlock', version: VERSION },
    ...(delta ? { delta } : {}),
  });

  await mkdir(request.outDir, { recursive: true });
  const written = await writeBundle({
    file: join(request.outDir, bundleFileName(summary.name, summary.version)),
    manifest: bytes,
    payload,
    signers: keys.map(bundleSigner),
    mtime: created,
    onProgress: request.onProgress,
  });
  return { ...written, manifest: summary, signers: keys.map((key) => key.keyId) };
}

/**
 * airlock.json's bytes, and what the build reports of it. Neither the collected records nor
 * the validated manifest outlive this call: at 200,000 files each is tens of MB that would
 * otherwise stay alive while the bundle is written.
 */
function describe(release: ReleaseManifest, collected: PackedRelease, facts: BundleFacts): { summary: BuildSummary; bytes: Buffer } {
  const manifest = buildBundleManifest(release, collected, facts);
  const { name, version, created, expires, images, delta } = manifest;
  return { summary: { name, version, created, expires, images, ...(delta ? { delta } : {}) }, bytes: manifestBytes(manifest) };
}

async function packImages(release: ReleaseManifest, request: BuildRequest) {
  const [{ collectImages }, { judgeBuildImages }] = await Promise.all([import('../images/collect.js'), import('./image-policy.js')]);
  const manifestDir = dirname(resolve(request.manifestFile));
  const { judged, ...images } = await collectImages(release.images, {
    manifestDir,
    cacheDir: request.cacheDir,
    platforms: request.platforms,
    credentials: request.credentials,
    output: request.output,
    judge: (collected) => judgeBuildImages(release, collected, { manifestDir, cacheDir: request.cacheDir, output: request.output }),
  });
  return { images, judged };
}

async function planDeltaOf(imageFiles: readonly PayloadFile[], bases: readonly BaseHoldings[]) {
  const [{ readLayoutGraph }, { payloadBlobSource }, { planDelta }] = await Promise.all([import('../images/layout-graph.js'), import('./payload-blobs.js'), import('./plan-delta.js')]);
  const graph = imageFiles.length === 0 ? { omittable: new Map() } : await readLayoutGraph(payloadBlobSource(imageFiles));
  return planDelta(graph, bases);
}

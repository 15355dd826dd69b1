/**
 * Issue 14's many-images benchmark: 200 small images (AIRLOCK_BENCH_IMAGES to change the count),
 * each one of 5 shared bases (5 layers each) plus 7 layers, a config and a manifest of its own:
 * about 2,000 blobs, each image in a repository of its own, served by a real CNCF distribution
 * registry on loopback. Pull: `airlock build` of a release listing every image, cold cache,
 * against skopeo copying them one by one into one OCI layout directory. Push: `airlock install`
 * of that bundle into an emptied registry (verify and record included) against skopeo copying
 * them one by one from its layout into the same emptied registry. Each run's peak of TCP
 * connections to the registry is sampled from /proc/net/tcp: ours must stay within its bound.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryDigest, seed } from '../../test/support/images.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';
import { measureContenders, type Contender } from '../measure.js';
import { airlockBuild, airlockInstall, generateKey, siteYaml } from '../ours.js';
import { ratioTarget, rowsFor, type BenchContext, type Row, type Scenario, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { skopeoEach } from '../skopeo.js';
import { ensureSyntheticLayout, type SyntheticImageSpec, type SyntheticImages } from '../synthetic-images.js';
import { formatBytes, GiB } from '../units.js';
import { assertFreeSpace } from '../workdir.js';
import { connectionPeak } from '../connection-peak.js';

export const IMAGES_VARIABLE = 'AIRLOCK_BENCH_IMAGES';
const DEFAULT_IMAGES = 200;
const BASES = 5;
const BASE_LAYERS = 5;
const OWN_LAYERS = 7;
const BASE_LAYER_BYTES = 256 * 1024;
/** Own layers from 4 KiB to 64 KiB, so most of the work is round trips, as with real small layers. */
const OWN_LAYER_BYTES = [4, 8, 16, 24, 32, 48, 64].map((k) => k * 1024);
const SKOPEO_RATIO_TARGET = 1.5;
/** airlock's default bound on connections per registry (docs/IMAGES.md#connections). */
const CONNECTION_BOUND = 8;
/** Seeding the upstream registry: skopeo copies in parallel (seeding is not measured). */
const SEED_PARALLEL = 4;

export const manyImagesScenario: Scenario = {
  name: 'many-images',
  description: `airlock build (pull) / install (push) of ${DEFAULT_IMAGES} small images sharing 5 bases (~2,000 blobs) vs skopeo copy image by image`,
  perSize: false,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { workDir, say } = context;
    const count = imageCount();
    const images = await ensureSyntheticLayout(join(workDir, 'layout'), imageSpecs(count), say);
    await assertFreeSpace(workDir, images.uniqueBlobBytes * 8 + GiB, 'the many-images scenario', 'the layout, two registries, cache, bundle and skopeo layout');
    for (const dir of ['upstream', 'isolated']) rmSync(join(workDir, dir), { recursive: true, force: true });
    const upstream = await startRegistry({ storageDir: join(workDir, 'upstream') });
    let isolated: TestRegistry | undefined;
    try {
      isolated = await startRegistry({ storageDir: join(workDir, 'isolated') });
      const sources = images.tags.map((tag) => `${upstream.host}/many/${tag}:1`);
      say(`seeding ${count} images (${images.blobs.length} blobs, ${formatBytes(images.uniqueBlobBytes)}) into ${upstream.host} with skopeo`);
      await seedAll(images, sources);
      return await measure(context, images, upstream, isolated, sources);
    } finally {
      await Promise.all([upstream.stop(), isolated?.stop()]);
    }
  },
};

function imageCount(): number {
  const text = process.env[IMAGES_VARIABLE];
  if (text === undefined || text === '') return DEFAULT_IMAGES;
  const count = Number(text);
  if (!Number.isInteger(count) || count < BASES) throw new Error(`${IMAGES_VARIABLE}: expected a whole number of at least ${BASES}: ${text}`);
  return count;
}

function imageSpecs(count: number): SyntheticImageSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const tag = `app${String(i).padStart(3, '0')}`;
    const base = i % BASES;
    return {
      tag,
      layers: [
        ...Array.from({ length: BASE_LAYERS }, (_, l) => ({ name: `base${base}-${l}`, bytes: BASE_LAYER_BYTES })),
        ...Array.from({ length: OWN_LAYERS }, (_, l) => ({ name: `${tag}-${l}`, bytes: OWN_LAYER_BYTES[(i + l) % OWN_LAYER_BYTES.length]! })),
      ],
    };
  });
}

async function seedAll(images: SyntheticImages, sources: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const index = next++;
      await seed(images.layoutDir, images.tags[index]!, sources[index]!);
    }
  };
  await Promise.all(Array.from({ length: SEED_PARALLEL }, worker));
}

async function measure(context: BenchContext, images: SyntheticImages, upstream: TestRegistry, isolated: TestRegistry, sources: string[]): Promise<ScenarioResult> {
  const { cli, workDir, runs, say } = context;
  const count = images.tags.length;
  const label = `${count} images`;
  const bytes = images.uniqueBlobBytes;
  const key = generateKey(cli, join(workDir, 'signer'));
  const manifest = join(workDir, 'release.yaml');
  writeFileSync(manifest, releaseManifest(sources));
  const cache = join(workDir, 'cache');
  const outDir = join(workDir, 'out');
  const bundle = join(outDir, 'bench-many-images-1.0.0.airlock');
  const ociDir = join(workDir, 'skopeo-oci');
  mkdirSync(outDir, { recursive: true });
  const build = airlockBuild(cli, manifest, key, outDir);
  const pullPeaks = { ours: connectionPeak(upstream.port), stock: connectionPeak(upstream.port) };

  say(`pull: ${count} images, ${images.blobs.length} blobs, ${formatBytes(bytes)} of unique blobs`);
  const pull = await measureContenders(
    [
      { name: 'airlock build, cold cache (pull + signed bundle)', role: 'ours', command: { ...build, argv: [...build.argv, '--cache', cache] }, inputs: [upstream.storageDir], outputs: [cache, bundle], monitor: pullPeaks.ours },
      { name: 'skopeo copy docker:// → oci: (one per image, one shared dir)', role: 'stock', command: skopeoEach(sources, (source, tag) => ['--src-tls-verify=false', `docker://${source}`, `oci:${ociDir}:${tag}`]), inputs: [upstream.storageDir], outputs: [ociDir], monitor: pullPeaks.stock },
    ] satisfies Contender[],
    runs,
    workDir,
    say,
  );

  const siteDir = join(workDir, 'site');
  const site = join(siteDir, 'site.yaml');
  mkdirSync(siteDir, { recursive: true });
  writeFileSync(site, siteYaml(key.trustDir, isolated.host));
  const state = join(siteDir, 'state');
  const targets = sources.map((source) => `${isolated.host}${source.slice(upstream.host.length)}`);
  const pushPeaks = { ours: connectionPeak(isolated.port), stock: connectionPeak(isolated.port) };
  say('push: into the emptied isolated registry each run');
  const push = await measureContenders(
    [
      { name: 'airlock install (verify + push + record)', role: 'ours', command: airlockInstall(cli, bundle, site), inputs: [bundle], outputs: [isolated.storageDir, state, join(siteDir, 'etc')], monitor: pushPeaks.ours },
      { name: 'skopeo copy oci: → docker:// (one per image)', role: 'stock', command: skopeoEach(targets, (target, tag) => ['--dest-tls-verify=false', `oci:${ociDir}:${tag}`, `docker://${target}`]), inputs: [ociDir], outputs: [isolated.storageDir], monitor: pushPeaks.stock },
    ] satisfies Contender[],
    runs,
    workDir,
    say,
  );
  // The last run was skopeo's: push ours once more so what is checked is what airlock pushed.
  for (const dir of [isolated.storageDir, state, join(siteDir, 'etc')]) rmSync(dir, { recursive: true, force: true });
  const install = airlockInstall(cli, bundle, site);
  const logged = (await isolated.log()).length;
  // Not execFileSync: the registry's log is piped through this process, and a blocked event loop would stall the registry.
  await promisify(execFile)(install.argv[0]!, install.argv.slice(1), { maxBuffer: 64 * 2 ** 20 });
  const uploads = await assertPushed(images, targets, isolated, logged);
  const expectedUploads = images.blobs.length - count;

  const rows: Row[] = [...rowsFor('many-images', label, 'pull', bytes, pull), ...rowsFor('many-images', label, 'push', bytes, push)];
  const row = (name: string) => rows.find((candidate) => candidate.contender === name)!;
  const bound = (what: string, peak: number): TargetCheck => ({
    scenario: 'many-images',
    size: label,
    name: `${what}: connections to the registry ≤ ${CONNECTION_BOUND}`,
    target: `≤ ${CONNECTION_BOUND}`,
    actual: `peak ${peak}`,
    pass: peak <= CONNECTION_BOUND,
  });
  const checks: TargetCheck[] = [
    ratioTarget('many-images', label, `pull ≥ ${SKOPEO_RATIO_TARGET}× ${pull[1]!.name}`, row(pull[1]!.name), SKOPEO_RATIO_TARGET),
    ratioTarget('many-images', label, `push ≥ ${SKOPEO_RATIO_TARGET}× ${push[1]!.name}`, row(push[1]!.name), SKOPEO_RATIO_TARGET),
    bound('airlock build', pullPeaks.ours.peak()),
    bound('airlock install', pushPeaks.ours.peak()),
    {
      scenario: 'many-images',
      size: label,
      name: 'airlock install uploads each blob once (shared bases mounted)',
      target: `${expectedUploads} blob uploads`,
      actual: `${uploads.blobs} blob uploads, ${uploads.mounts} mounts`,
      pass: uploads.blobs === expectedUploads,
    },
  ];
  return {
    rows,
    targets: checks,
    notes: [
      `${label}: ${count} images, each one of ${BASES} bases of ${BASE_LAYERS} layers of ${formatBytes(BASE_LAYER_BYTES)} plus ${OWN_LAYERS} layers of its own (4–64 KiB), a config and a manifest; ${images.blobs.length} blobs, ${formatBytes(bytes)} unique. One repository per image, CNCF distribution on loopback, plain HTTP.`,
      `${label}: airlock build looks up each image's attached artifacts too (referrers, cosign tags: 404s here), as it does by default; skopeo copies into one shared oci: directory, so it skips blobs already there. Peak TCP connections to the registry during a run: airlock ${pullPeaks.ours.peak()}, skopeo ${pullPeaks.stock.peak()}.`,
      `${label}: airlock install is the whole verb (verify every byte, plan, push, record); skopeo pushes from its own layout. Peak connections: airlock ${pushPeaks.ours.peak()}, skopeo ${pushPeaks.stock.peak()}. Registry log of one more airlock push: ${uploads.blobs} blob uploads (configs and layers), ${uploads.mounts} cross-repository mounts.`,
    ],
  };
}

function releaseManifest(sources: string[]): string {
  return [
    '# Written by bench/scenarios/many-images.ts (npm run bench -- --only many-images).',
    'name: bench-many-images',
    'version: 1.0.0',
    'targets:',
    '  environments: [prod]',
    'images:',
    ...sources.map((source) => `  - { ref: "${source}", insecure: true }`),
    '',
  ].join('\n');
}


/**
 * Every image must be served by its digest (the first and last through skopeo, all of them by a
 * manifest HEAD), and the registry's log tells how many blobs were uploaded and mounted.
 */
async function assertPushed(images: SyntheticImages, targets: string[], isolated: TestRegistry, logged: number): Promise<{ blobs: number; mounts: number }> {
  const layout = JSON.parse(readFileSync(join(images.layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; mediaType: string }> };
  for (const index of [0, targets.length - 1]) {
    const served = await registryDigest(targets[index]!);
    if (served !== layout.manifests[index]!.digest) throw new Error(`${targets[index]}: digest ${served}, expected ${layout.manifests[index]!.digest}`);
  }
  for (const [index, target] of targets.entries()) {
    const [host, ...rest] = target.split('/');
    const [repository, tag] = rest.join('/').split(':');
    const response = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept: layout.manifests[index]!.mediaType } });
    const digest = response.headers.get('docker-content-digest');
    if (digest !== layout.manifests[index]!.digest) throw new Error(`${target} on ${isolated.host}: digest ${digest}, expected ${layout.manifests[index]!.digest}`);
  }
  // The registry's access log since the push began: each finished upload is a PUT answered 201, each mount a POST with mount= answered 201.
  const log = (await isolated.log()).slice(logged);
  const blobs = (log.match(/"PUT \/v2\/\S+\/blobs\/uploads\/\S* HTTP\/1\.1" 201/g) ?? []).length;
  const mounts = (log.match(/"POST \/v2\/\S+\/blobs\/uploads\/\?\S*mount=\S* HTTP\/1\.1" 201/g) ?? []).length;
  return { blobs, mounts };
}

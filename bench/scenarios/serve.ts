/**
 * Issue 16's benchmark: the same client pulling the same images from two registries in the same
 * run. `airlock serve` serves three images (a shared base layer and one layer each, four layers
 * of size/4) from the signed bundle it verified at start, hashing every blob as it streams; CNCF
 * distribution (Debian's docker-registry) serves the same images, seeded with skopeo, from its
 * tree of files. The contender is `skopeo copy docker:// → oci:` of all three, one after another.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { seed } from '../../test/support/images.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';
import { startServe, type ServeProcess } from '../../test/support/serve.js';
import { measureContenders, type Contender } from '../measure.js';
import { airlockBuild, generateKey } from '../ours.js';
import { ratioTarget, rowsFor, rssTarget, type BenchContext, type Scenario, type ScenarioResult } from '../scenario.js';
import { skopeoEach } from '../skopeo.js';
import { ensureSyntheticImages, type SyntheticImages } from '../synthetic-images.js';
import { formatBytes, GiB } from '../units.js';
import { assertFreeSpace } from '../workdir.js';

const LAYERS = 4;
const RATIO_TARGET = 1.0;
/** The layout, the bundle, the registry's storage and the two clients' copies. */
const DISK_FACTOR = 5;
const SOURCE = 'registry.bench.internal/bench';

export const serveScenario: Scenario = {
  name: 'serve',
  description: 'skopeo copy of 3 images from airlock serve (straight from the verified bundle) vs from docker-registry holding the same images',
  perSize: true,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { cli, workDir, size, say } = context;
    const layerBytes = Math.floor(size.bytes / LAYERS);
    // The release manifest names the layout relative to itself: both live in workDir.
    const images = await ensureSyntheticImages(join(workDir, 'layout'), { baseBytes: layerBytes, appBytes: layerBytes }, say);
    await assertFreeSpace(workDir, images.uniqueBlobBytes * DISK_FACTOR + GiB, 'the serve scenario', 'the layout, the bundle, the registry storage and two copies of the images');
    for (const dir of ['out', 'registry']) rmSync(join(workDir, dir), { recursive: true, force: true });

    const key = generateKey(cli, join(workDir, 'signer'));
    const manifest = join(workDir, 'release.yaml');
    writeFileSync(manifest, releaseManifest(images));
    const outDir = join(workDir, 'out');
    mkdirSync(outDir, { recursive: true });
    const build = airlockBuild(cli, manifest, key, outDir);
    say('building the bundle (untimed)');
    execFileSync(build.argv[0]!, build.argv.slice(1), { env: { ...process.env, ...build.env }, stdio: ['ignore', 'ignore', 'inherit'] });
    const bundle = join(outDir, 'bench-serve-1.0.0.airlock');

    const registry = await startRegistry({ storageDir: join(workDir, 'registry') });
    let server: ServeProcess | undefined;
    try {
      say(`seeding ${images.tags.length} images into docker-registry ${registry.host} with skopeo`);
      for (const tag of images.tags) await seed(images.layoutDir, tag, `${registry.host}/bench/${tag}:1`);
      say('starting airlock serve (verifies the bundle first)');
      server = await startServe([bundle, '--trust', key.trustDir]);
      return await measure(context, images, bundle, registry, server);
    } finally {
      await Promise.all([registry.stop(), server?.stop()]);
    }
  },
};

async function measure(context: BenchContext, images: SyntheticImages, bundle: string, registry: TestRegistry, server: ServeProcess): Promise<ScenarioResult> {
  const { workDir, size, runs, say } = context;
  const fromServe = join(workDir, 'copy-from-serve');
  const fromRegistry = join(workDir, 'copy-from-registry');
  const pull = (host: string, out: string) => skopeoEach(images.tags.map((tag) => `${host}/bench/${tag}:1`), (ref, tag) => ['--src-tls-verify=false', `docker://${ref}`, `oci:${out}:${tag}`]);
  say(`pull: ${images.tags.length} images, ${formatBytes(images.uniqueBlobBytes)} of unique blobs`);
  const results = await measureContenders(
    [
      { name: 'skopeo copy docker:// → oci: from airlock serve (the bundle)', role: 'ours', command: pull(server.host, fromServe), inputs: [bundle], outputs: [fromServe], check: () => assertCopied(images, fromServe) },
      { name: 'skopeo copy docker:// → oci: from docker-registry', role: 'stock', command: pull(registry.host, fromRegistry), inputs: [registry.storageDir], outputs: [fromRegistry], check: () => assertCopied(images, fromRegistry) },
    ] satisfies Contender[],
    runs,
    workDir,
    say,
  );
  const serverPeak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) * 1024;
  const rows = rowsFor('serve', size.label, 'pull', images.uniqueBlobBytes, results);
  const faults = server.lines().filter((line) => line.event === 'fault');
  if (faults.length > 0) throw new Error(`airlock serve logged faults during the benchmark: ${JSON.stringify(faults[0])}`);
  return {
    rows,
    targets: [
      ratioTarget('serve', size.label, `pull from airlock serve ≥ 1.0× ${rows[1]!.contender}`, rows[1]!, RATIO_TARGET),
      rssTarget('serve', size.label, 'airlock serve peak RSS (start-up verification included)', serverPeak),
    ],
    notes: [
      `${size.label}: ${images.tags.length} images of ${images.imageBytes.map((bytes) => formatBytes(bytes)).join(' / ')} (a shared base layer and one layer each, gzip stored blocks of keystream bytes), ${formatBytes(images.uniqueBlobBytes)} of unique blobs. Both registries on loopback over plain HTTP, serving from the same disk; skopeo writes one shared oci: directory per run and checks every digest.`,
      `${size.label}: airlock serve reads every blob from the bundle's byte range and hashes it as it streams (256 KiB chunks, the last held back until the digest matched); docker-registry reads its files under docker/registry/v2/blobs. The peak RSS row is skopeo's; the server's own peak is the RSS target (${formatBytes(serverPeak)}, most of it from verifying the bundle at start).`,
    ],
  };
}

/** A copy that did not land means nothing: each image must be in the output under its digest. */
function assertCopied(images: SyntheticImages, dir: string): void {
  const layout = JSON.parse(readFileSync(join(images.layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const copied = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const expected = layout.manifests.map((m) => m.digest).sort();
  const got = copied.manifests.map((m) => m.digest).sort();
  if (JSON.stringify(expected) !== JSON.stringify(got)) throw new Error(`${dir}: copied ${got.join(', ')}, expected ${expected.join(', ')}`);
}

function releaseManifest(images: SyntheticImages): string {
  return [
    '# Written by bench/scenarios/serve.ts (npm run bench -- --only serve).',
    'name: bench-serve',
    'version: 1.0.0',
    'targets:',
    '  environments: [prod]',
    'images:',
    ...images.tags.map((tag) => `  - { ref: "${SOURCE}/${tag}:1", ociLayout: layout, tag: ${tag} }`),
    '',
  ].join('\n');
}

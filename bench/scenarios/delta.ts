/**
 * Issue 12's benchmark: three images of about 300 MiB (at --size 1G; scaled with --size) sharing a
 * base layer, each with an application layer and a top layer; 1.1.0 changes one image's top layer
 * (about 30 MiB). Release 1.0.0 is installed into a real registry (CNCF distribution on loopback),
 * then 1.1.0 is built full and as a delta against that install's receipt. Reported: full bundle
 * bytes, delta bytes, the changed blob bytes, and what an image-level differential (whole changed
 * images, as Zarf's --differential ships them) would be, from the same release; then the install
 * of 1.1.0 from each, every run from the same registry and site state at 1.0.0.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { registryDigest } from '../../test/support/images.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';
import { measureContenders, type Contender } from '../measure.js';
import { airlockBuild, airlockInstall, generateKey, type SigningKey } from '../ours.js';
import { rowsFor, type BenchContext, type Row, type Scenario, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { ensureSyntheticLayout, type Descriptor, type SyntheticImages } from '../synthetic-images.js';
import { formatBytes, GiB } from '../units.js';
import { assertFreeSpace } from '../workdir.js';

const TAGS = ['app1', 'app2', 'app3'];
const CHANGED = 'app3';
/** Shares of --size: base, application layer and top layer of each image (1G: 150 + 120 + 30 MiB). */
const SHARES = { base: 150 / 1024, app: 120 / 1024, top: 30 / 1024 };
const DELTA_OVERHEAD_SHARE = 0.01;
/** The layout, registry storage and its 1.0.0 snapshot, three bundles, the cache: about 6x the unique blobs. */
const DISK_FACTOR = 6;

export const deltaScenario: Scenario = {
  name: 'delta',
  description: 'a delta release against the site receipt vs the full bundle and an image-level differential: bytes, and install time into a registry',
  perSize: true,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { workDir, say, size } = context;
    const bytes = (share: number) => layerBytes(share, size.bytes);
    const images = await ensureSyntheticLayout(
      join(workDir, 'layout'),
      [
        ...TAGS.map((tag) => ({ tag, layers: [{ name: 'base', bytes: bytes(SHARES.base) }, { name: tag, bytes: bytes(SHARES.app) }, { name: `${tag}-top`, bytes: bytes(SHARES.top) }] })),
        { tag: `${CHANGED}-v2`, layers: [{ name: 'base', bytes: bytes(SHARES.base) }, { name: CHANGED, bytes: bytes(SHARES.app) }, { name: `${CHANGED}-top-v2`, bytes: bytes(SHARES.top) }] },
      ],
      say,
    );
    await assertFreeSpace(workDir, images.uniqueBlobBytes * DISK_FACTOR + GiB, 'the delta scenario', 'the layout, the registry and its snapshot, three bundles and the cache');
    rmSync(join(workDir, 'isolated'), { recursive: true, force: true });
    const registry = await startRegistry({ storageDir: join(workDir, 'isolated') });
    try {
      return await measure(context, images, registry);
    } finally {
      await registry.stop();
    }
  },
};

async function measure(context: BenchContext, images: SyntheticImages, registry: TestRegistry): Promise<ScenarioResult> {
  const { cli, workDir, runs, say, size } = context;
  const key = generateKey(cli, join(workDir, 'signer'));
  const refs = (version: string) => TAGS.map((tag) => ({ ref: `bench.internal/delta/${tag}:${tag === CHANGED ? version : '1.0.0'}`, tag: tag === CHANGED && version !== '1.0.0' ? `${CHANGED}-v2` : tag }));
  const build = (version: string, extra: string[] = []) => {
    const manifest = join(workDir, `release-${version}.yaml`);
    writeFileSync(manifest, releaseManifest(version, 'layout', refs(version)));
    const out = join(workDir, extra.length > 0 ? 'delta' : `full-${version}`);
    const command = airlockBuild(cli, manifest, key, out);
    execFileSync(command.argv[0]!, [...command.argv.slice(1), '--cache', join(workDir, 'cache'), ...extra], { env: { ...process.env, ...command.env }, stdio: ['ignore', 'ignore', 'inherit'] });
    return join(out, `bench-delta-${version}.airlock`);
  };

  say('1.0.0: build and install into the registry (untimed), then snapshot the registry and the site');
  const site = makeSite(join(workDir, 'site'), key, registry.host);
  const full100 = build('1.0.0');
  run(airlockInstall(cli, full100, site.file));
  const receipt = join(site.state, 'receipts', (JSON.parse(readFileSync(join(site.state, 'state.json'), 'utf8')) as { releases: Array<{ receipt: string }> }).releases.at(-1)!.receipt);
  const snapshot = { registry: join(workDir, 'isolated-1.0.0'), state: join(workDir, 'state-1.0.0') };
  for (const [from, to] of [[registry.storageDir, snapshot.registry], [site.state, snapshot.state]] as const) {
    rmSync(to, { recursive: true, force: true });
    cpSync(from, to, { recursive: true });
  }

  say('1.1.0: the full bundle, and the delta against the 1.0.0 install receipt');
  const full110 = build('1.1.0');
  const delta = build('1.1.0', ['--since', receipt]);
  const fullBytes = statSync(full110).size;
  const deltaBytes = statSync(delta).size;
  const before = blobsOf(images, refs('1.0.0').map((r) => r.tag));
  const after = blobsOf(images, refs('1.1.0').map((r) => r.tag));
  const changedBytes = sum([...after.values()].filter((blob) => !before.has(blob.digest)));
  // Zarf's --differential leaves out only the image references the base package had: a changed image travels whole.
  const differentialBytes = sum([...blobsOf(images, [`${CHANGED}-v2`]).values()]);

  const restore = () => {
    for (const [snap, live] of [[snapshot.registry, registry.storageDir], [snapshot.state, site.state]] as const) {
      rmSync(live, { recursive: true, force: true });
      cpSync(snap, live, { recursive: true });
    }
  };
  say('install 1.1.0 into the registry at 1.0.0, from the full bundle and from the delta (registry and site put back before each run):');
  const contenders: Contender[] = [
    { name: 'airlock install, full bundle 1.1.0', role: 'ours', command: airlockInstall(cli, full110, site.file), inputs: [full110], prepare: restore },
    { name: 'airlock install, delta 1.1.0 against the receipt', role: 'ours', command: airlockInstall(cli, delta, site.file), inputs: [delta], prepare: restore },
  ];
  const installs = await measureContenders(contenders, runs, workDir, say);
  for (const { ref } of refs('1.1.0')) {
    const served = await registryDigest(`${registry.host}/${ref.slice(ref.indexOf('/') + 1)}`);
    const expected = images.blobs.find((blob) => blob.digest === served);
    if (expected === undefined) throw new Error(`${ref}: the registry serves ${served}, which the layout does not hold`);
  }

  const label = `3×${formatBytes(sum([...blobsOf(images, ['app1']).values()]))}`;
  // Throughput over what the install leaves in the registry: every blob of release 1.1.0.
  const rows: Row[] = rowsFor('delta', size.label, 'install 1.1.0 into a registry at 1.0.0', sum(after.values()), installs);
  const [full, fromDelta] = installs;
  const overhead = deltaBytes / changedBytes - 1;
  const targets: TargetCheck[] = [
    {
      scenario: 'delta',
      size: size.label,
      name: 'delta ≤ changed blob bytes + 1%',
      target: '≤ +1%',
      actual: `+${(overhead * 100).toFixed(2)}% (${deltaBytes.toLocaleString('en')} vs ${changedBytes.toLocaleString('en')} bytes)`,
      pass: overhead <= DELTA_OVERHEAD_SHARE,
    },
    {
      scenario: 'delta',
      size: size.label,
      name: 'install from the delta no slower than from the full bundle',
      target: '≤ 1.00× full',
      actual: `${(fromDelta!.seconds / full!.seconds).toFixed(2)}× (${fromDelta!.seconds.toFixed(2)} s vs ${full!.seconds.toFixed(2)} s)`,
      pass: fromDelta!.seconds <= full!.seconds,
    },
  ];
  return {
    rows,
    targets,
    notes: [
      `${size.label} (${label}): three images sharing a ${formatBytes(layerBytes(SHARES.base, size.bytes))} base layer, each with a ${formatBytes(layerBytes(SHARES.app, size.bytes))} application layer and a ${formatBytes(layerBytes(SHARES.top, size.bytes))} top layer; 1.1.0 changes ${CHANGED}'s top layer. Bytes for 1.1.0: full bundle ${formatBytes(fullBytes)} (${fullBytes.toLocaleString('en')}), delta ${formatBytes(deltaBytes)} (${deltaBytes.toLocaleString('en')}), changed blobs ${formatBytes(changedBytes)} (${changedBytes.toLocaleString('en')}: the new layer, config and manifest), image-level differential ${formatBytes(differentialBytes)} (${differentialBytes.toLocaleString('en')}: every blob of the changed image, before any bundle overhead).`,
      `${size.label}: the delta is cut against the receipt the 1.0.0 install wrote (the registry asked for every blob). Each install starts from the same registry storage and site state at 1.0.0 (copied back untimed), verifies its bundle, pushes (the full bundle's unchanged blobs are found by HEAD, the delta's omitted ones are found before the plan and never read), and surveys the registry for its receipt.`,
    ],
  };
}

/** A layer's share of --size, in whole tar blocks. */
function layerBytes(share: number, sizeBytes: number): number {
  return Math.round((sizeBytes * share) / 512) * 512;
}

/** Every blob of the tagged images (manifests, configs, layers), each once, read back from the layout. */
function blobsOf(images: SyntheticImages, tags: readonly string[]): Map<string, Descriptor> {
  const index = JSON.parse(readFileSync(join(images.layoutDir, 'index.json'), 'utf8')) as { manifests: Array<Descriptor & { annotations: Record<string, string> }> };
  const found = new Map<string, Descriptor>();
  for (const tag of tags) {
    const entry = index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === tag)!;
    const manifest = JSON.parse(readFileSync(join(images.layoutDir, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as { config: Descriptor; layers: Descriptor[] };
    for (const blob of [entry, manifest.config, ...manifest.layers]) found.set(blob.digest, { mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
  }
  return found;
}

function sum(blobs: Iterable<Descriptor>): number {
  let total = 0;
  for (const blob of blobs) total += blob.size;
  return total;
}

function run(command: { argv: string[]; env?: Record<string, string> }): void {
  execFileSync(command.argv[0]!, command.argv.slice(1), { env: { ...process.env, ...command.env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

function makeSite(dir: string, key: SigningKey, registry: string): { file: string; state: string } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    ['site: bench', 'environment: prod', 'stateDir: state', `trust: ${JSON.stringify(key.trustDir)}`, 'targets:', '  configRoot: etc', `  images: { registry: "${registry}", insecure: true }`, ''].join('\n'),
  );
  return { file, state: join(dir, 'state') };
}

/** `layoutDir` relative to the manifest, which lies in the work directory beside it. */
function releaseManifest(version: string, layoutDir: string, images: Array<{ ref: string; tag: string }>): string {
  return [
    '# Written by bench/scenarios/delta.ts (npm run bench -- --only delta).',
    'name: bench-delta',
    `version: ${version}`,
    'targets:',
    '  environments: [prod]',
    'images:',
    ...images.map(({ ref, tag }) => `  - { ref: "${ref}", ociLayout: ${layoutDir}, tag: ${tag} }`),
    '',
  ].join('\n');
}

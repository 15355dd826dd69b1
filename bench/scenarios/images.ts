/**
 * Issue 3's benchmark: three ~300 MiB images sharing a 150 MiB base layer, served by a real
 * CNCF distribution registry on loopback. Pull: `airlock build` with a cold image cache against
 * skopeo copying the same images out of the same registry. Push: `airlock install` into an
 * emptied isolated registry against skopeo copying the images into it. Then a second install
 * of the same bundle, and the bundle's size against the unique blob bytes it carries. Issue 13:
 * every image signed, attested and given an SBOM upstream; build (policy checked) and install
 * (evidence pushed) with the evidence against the same without it (`attached: false`).
 * `--size` scales the images (1G, the default: 150 MiB base and application layers).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { registryDigest, seed } from '../../test/support/images.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';
import { measureContenders, type Command, type Contender } from '../measure.js';
import { airlockBuild, airlockInstall, generateKey, siteYaml } from '../ours.js';
import { ratioTarget, rowsFor, type BenchContext, type Row, type Scenario, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { skopeoEach } from '../skopeo.js';
import { ensureSyntheticImages, type SyntheticImages } from '../synthetic-images.js';
import { formatBytes, GiB, MiB } from '../units.js';
import { assertFreeSpace } from '../workdir.js';
import { signAndAttest } from '../signed-images.js';

const LAYER_SHARE = 150 / 1024;
const EVIDENCE_SLOWDOWN_TARGET = 1.05;
const SKOPEO_RATIO_TARGET = 1.0;
const SECOND_INSTALL_SHARE = 0.1;
const BUNDLE_OVERHEAD_SHARE = 0.01;
/** Layout, upstream storage, cache, bundle, skopeo's archives (the base three times), its oci: dir, the isolated storage, skopeo's temp extraction. */
const DISK_FACTOR = 9;

export const imagesScenario: Scenario = {
  name: 'images',
  description: 'airlock build (pull) / install (push) of 3 images sharing a base vs skopeo copy, registry to registry on loopback',
  perSize: false,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { workDir, say } = context;
    const layerBytes = Math.round((context.size.bytes * LAYER_SHARE) / MiB) * MiB;
    const images = await ensureSyntheticImages(join(workDir, 'layout'), { baseBytes: layerBytes, appBytes: layerBytes }, say);
    await assertFreeSpace(workDir, images.uniqueBlobBytes * DISK_FACTOR + GiB, 'the images scenario', 'the layout, registries, cache, bundle and skopeo copies');
    // Registries start empty, also after a --keep run: stale blobs would be warmed and counted.
    for (const dir of ['upstream', 'isolated']) rmSync(join(workDir, dir), { recursive: true, force: true });
    const upstream = await startRegistry({ storageDir: join(workDir, 'upstream') });
    let isolated: TestRegistry | undefined;
    try {
      isolated = await startRegistry({ storageDir: join(workDir, 'isolated') });
      say(`seeding ${images.tags.length} images into the upstream registry ${upstream.host} with skopeo`);
      const sources = images.tags.map((tag) => `${upstream.host}/bench/${tag}:1`);
      for (const [index, tag] of images.tags.entries()) await seed(images.layoutDir, tag, sources[index]!);
      say('signing and attesting every image upstream (openssl, skopeo)');
      const vendor = await signAndAttest(images.layoutDir, images.tags, sources, workDir);
      return await measure(context, images, upstream, isolated, sources, { layerBytes, vendorKey: basename(vendor.pub) });
    } finally {
      await Promise.all([upstream.stop(), isolated?.stop()]);
    }
  },
};

async function measure(
  context: BenchContext,
  images: SyntheticImages,
  upstream: TestRegistry,
  isolated: TestRegistry,
  sources: string[],
  sizing: { layerBytes: number; vendorKey: string },
): Promise<ScenarioResult> {
  const { cli, workDir, runs, say } = context;
  const sizeLabel = `3×${formatBytes(2 * sizing.layerBytes)}`;
  const baseBytes = sizing.layerBytes;
  const appBytes = sizing.layerBytes;
  const key = generateKey(cli, join(workDir, 'signer'));
  const manifest = join(workDir, 'release.yaml');
  writeFileSync(manifest, releaseManifest(sources, { attached: false }));
  const cache = join(workDir, 'cache');
  const outDir = join(workDir, 'out');
  const bundle = join(outDir, 'bench-images-1.0.0.airlock');
  const archives = join(workDir, 'skopeo-archives');
  const ociDir = join(workDir, 'skopeo-oci');
  mkdirSync(outDir, { recursive: true });
  const build = airlockBuild(cli, manifest, key, outDir);
  const buildWithCache: Command = { ...build, argv: [...build.argv, '--cache', cache] };
  const bytes = images.uniqueBlobBytes;

  say(`pull: ${images.tags.length} images, ${(bytes / MiB).toFixed(0)} MiB of unique blobs`);
  const pull = await measureContenders(
    [
      { name: 'airlock build, cold cache (pull + signed bundle)', role: 'ours', command: buildWithCache, inputs: [upstream.storageDir], outputs: [cache, bundle] },
      { name: 'skopeo copy docker:// → oci-archive: (one per image)', role: 'stock', command: skopeoEach(sources, (source, tag) => ['--src-tls-verify=false', `docker://${source}`, `oci-archive:${archives}/${tag}.tar`], archives), inputs: [upstream.storageDir], outputs: [archives] },
      { name: 'skopeo copy docker:// → oci: (one shared dir)', role: 'stock', command: skopeoEach(sources, (source, tag) => ['--src-tls-verify=false', `docker://${source}`, `oci:${ociDir}:${tag}`]), inputs: [upstream.storageDir], outputs: [ociDir] },
    ] satisfies Contender[],
    runs,
    workDir,
    say,
  );
  // The warm-cache build re-hashes the cached blobs and writes the bundle: cold minus warm is about what pulling costs.
  say('build with a warm cache (no pull):');
  const warm = await measureContenders([{ name: 'airlock build, warm cache (bundle only)', role: 'ours', command: buildWithCache, inputs: [cache], outputs: [bundle] }], runs, workDir, say);
  const bundleBytes = statSync(bundle).size;

  const siteDir = join(workDir, 'site');
  const site = join(siteDir, 'site.yaml');
  mkdirSync(siteDir, { recursive: true });
  writeFileSync(site, siteYaml(key.trustDir, isolated.host));
  const state = join(siteDir, 'state');
  const install = airlockInstall(cli, bundle, site);
  const targets = sources.map((source) => `${isolated.host}${source.slice(upstream.host.length)}`);

  say('push: into the emptied isolated registry each run');
  const push = await measureContenders(
    [
      { name: 'airlock install (verify + push)', role: 'ours', command: install, inputs: [bundle], outputs: [isolated.storageDir, state, join(siteDir, 'etc')] },
      { name: "skopeo copy oci-archive: → docker:// (skopeo's own archives)", role: 'stock', command: skopeoEach(targets, (target, tag) => ['--dest-tls-verify=false', `oci-archive:${archives}/${tag}.tar`, `docker://${target}`]), inputs: [archives], outputs: [isolated.storageDir] },
      { name: 'skopeo copy oci-archive:<bundle>:<ref> → docker://', role: 'stock', command: skopeoEach(targets, (target, _tag, index) => ['--dest-tls-verify=false', `oci-archive:${bundle}:${sources[index]}`, `docker://${target}`]), inputs: [bundle], outputs: [isolated.storageDir] },
    ] satisfies Contender[],
    runs,
    workDir,
    say,
  );

  // The second install finds the same release installed and every blob in the registry.
  // The operator's second run is the same command; --reinstall is the full re-apply (verify every byte, plan, HEAD every blob).
  say('second install of the same bundle (the same command again, and with --reinstall):');
  for (const dir of [isolated.storageDir, state, join(siteDir, 'etc')]) rmSync(dir, { recursive: true, force: true });
  execFileSync(install.argv[0]!, install.argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  const again = await measureContenders(
    [
      { name: 'airlock install again (same bundle: already installed)', role: 'ours', command: install, inputs: [bundle] },
      { name: 'airlock install --reinstall (all blobs present)', role: 'ours', command: { argv: [...install.argv, '--reinstall'] }, inputs: [bundle] },
    ],
    runs,
    workDir,
    say,
  );
  await assertPushed(images, targets, isolated);

  // Issue 13: the same images with their upstream evidence, against the bundle above (attached: false).
  say('with upstream evidence: build (policy checked) and install (evidence pushed), against attached: false');
  const signedManifest = join(workDir, 'release-signed.yaml');
  writeFileSync(signedManifest, releaseManifest(sources, { attached: true, verifyKey: sizing.vendorKey }));
  const signedOut = join(workDir, 'out-signed');
  mkdirSync(signedOut, { recursive: true });
  const signedBuild = airlockBuild(cli, signedManifest, key, signedOut);
  const signedBundle = join(signedOut, 'bench-images-1.0.0.airlock');
  const evidenceBuild = await measureContenders(
    [
      { name: 'airlock build, cold cache, signed + attested + SBOM (policy checked)', role: 'ours', command: { ...signedBuild, argv: [...signedBuild.argv, '--cache', cache] }, inputs: [upstream.storageDir], outputs: [cache, signedBundle] },
      { name: 'airlock build, cold cache, attached: false', role: 'ours', command: buildWithCache, inputs: [upstream.storageDir], outputs: [cache, bundle] },
    ],
    runs,
    workDir,
    say,
  );
  const evidenceInstall = await measureContenders(
    [
      { name: 'airlock install, evidence re-checked and pushed', role: 'ours', command: airlockInstall(cli, signedBundle, site), inputs: [signedBundle], outputs: [isolated.storageDir, state, join(siteDir, 'etc')] },
      { name: 'airlock install, attached: false', role: 'ours', command: install, inputs: [bundle], outputs: [isolated.storageDir, state, join(siteDir, 'etc')] },
    ],
    runs,
    workDir,
    say,
  );
  const slowdown = (results: typeof evidenceBuild, what: string): TargetCheck => {
    const ratio = results[0]!.seconds / results[1]!.seconds;
    return {
      scenario: 'images',
      size: sizeLabel,
      name: `${what} with evidence ≤ ${EVIDENCE_SLOWDOWN_TARGET.toFixed(2)}× without`,
      target: `≤ ${EVIDENCE_SLOWDOWN_TARGET.toFixed(2)}×`,
      actual: `${ratio.toFixed(3)}× (${results[0]!.seconds.toFixed(2)} s / ${results[1]!.seconds.toFixed(2)} s)`,
      pass: ratio <= EVIDENCE_SLOWDOWN_TARGET,
    };
  };

  const rows: Row[] = [
    ...rowsFor('images', sizeLabel, 'pull', bytes, pull),
    ...rowsFor('images', sizeLabel, 'pull', bytes, warm),
    ...rowsFor('images', sizeLabel, 'push', bytes, push),
    ...rowsFor('images', sizeLabel, 'push', bytes, again),
    ...rowsFor('images', sizeLabel, 'pull', bytes, evidenceBuild),
    ...rowsFor('images', sizeLabel, 'push', bytes, evidenceInstall),
  ];
  const row = (name: string) => rows.find((candidate) => candidate.contender === name)!;
  const first = row(push[0]!.name);
  const second = row(again[0]!.name);
  const overhead = bundleBytes / bytes - 1;
  const checks: TargetCheck[] = [
    ...pull.slice(1).map((stock) => ratioTarget('images', sizeLabel, `pull ≥ 1.0× ${stock.name}`, row(stock.name), SKOPEO_RATIO_TARGET)),
    ...push.slice(1).map((stock) => ratioTarget('images', sizeLabel, `push ≥ 1.0× ${stock.name}`, row(stock.name), SKOPEO_RATIO_TARGET)),
    {
      scenario: 'images',
      size: sizeLabel,
      name: 'second install ≤ 10% of the first',
      target: '≤ 10%',
      actual: `${((second.seconds / first.seconds) * 100).toFixed(1)}% (${second.seconds.toFixed(2)} s / ${first.seconds.toFixed(2)} s)`,
      pass: second.seconds <= first.seconds * SECOND_INSTALL_SHARE,
    },
    {
      scenario: 'images',
      size: sizeLabel,
      name: 'bundle size vs unique blob bytes',
      target: '≤ +1%',
      actual: `+${(overhead * 100).toFixed(3)}% (${bundleBytes.toLocaleString('en')} vs ${bytes.toLocaleString('en')} bytes)`,
      pass: overhead <= BUNDLE_OVERHEAD_SHARE,
    },
    slowdown(evidenceBuild, 'build'),
    slowdown(evidenceInstall, 'install'),
  ];
  return {
    rows,
    targets: checks,
    notes: [
      `${sizeLabel}: ${images.tags.length} images of ${images.imageBytes.map((size) => formatBytes(size)).join(' / ')}, each a ${formatBytes(baseBytes)} base layer shared by all and a ${formatBytes(appBytes)} layer of its own (gzip, stored blocks, of tars of incompressible bytes); ${formatBytes(bytes)} of unique blobs, the bytes MiB/s is counted over. Registries: CNCF distribution on loopback, plain HTTP, filesystem storage on the same disk.`,
      `${sizeLabel}: airlock build pulls four blobs at a time into its cache, then signs and writes (and fsyncs) the ${formatBytes(bundleBytes)} bundle; the warm-cache row is that bundle work alone. skopeo to oci-archive writes each image's archive separately (the base layer three times); to oci: it shares one directory.`,
      `${sizeLabel}: airlock install verifies the bundle (a hash of every byte and the signature) before it pushes, then records the install; skopeo pushes without checks of its own. Pushing from the bundle, skopeo unpacks the whole archive once per image.`,
      `${sizeLabel}: the same install run again checks the signatures, sees the installed release's own bundle and stops (nothing to do; no payload byte is read). --reinstall re-verifies every byte, re-plans and finds every blob in the registry.`,
      `${sizeLabel}: with evidence, each image has upstream a cosign signature (.sig, openssl P-256), a DSSE SLSA provenance (.att) and a 40-package SPDX SBOM as an OCI 1.1 referrer (referrers tag: distribution has no referrers API); build looks them up (the referrers API, its tag, three cosign tags per digest), fetches them and checks the key policy; install re-checks it offline and pushes them, keeping the referrers tag. The rows without evidence build the same images with attached: false.`,
    ],
  };
}

function releaseManifest(sources: string[], evidence: { attached: boolean; verifyKey?: string }): string {
  return [
    '# Written by bench/scenarios/images.ts (npm run bench -- --only images).',
    'name: bench-images',
    'version: 1.0.0',
    'targets:',
    '  environments: [prod]',
    ...(evidence.verifyKey ? [`verify: { key: ${JSON.stringify(evidence.verifyKey)}, attestations: ["https://slsa.dev/provenance/v1"] }`] : []),
    'images:',
    ...sources.map((source) => `  - { ref: "${source}", insecure: true${evidence.attached ? '' : ', attached: false'} }`),
    '',
  ].join('\n');
}


/** A benchmark of pushes that did not land means nothing: the isolated registry must serve every image by its digest. */
async function assertPushed(images: SyntheticImages, targets: string[], isolated: TestRegistry): Promise<void> {
  const layout = JSON.parse(readFileSync(join(images.layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  for (const [index, target] of targets.entries()) {
    const served = await registryDigest(target);
    if (served !== layout.manifests[index]!.digest) throw new Error(`${target} on ${isolated.host}: digest ${served}, expected ${layout.manifests[index]!.digest}`);
  }
}

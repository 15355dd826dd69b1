/**
 * Issue 6's benchmark. A release that is mostly image bytes (three images sharing a base
 * layer, from an OCI layout), plus a directory of configs and three SQLite migrations, built
 * into a bundle. `airlock media write` cuts it into volumes against `split -b` cutting the
 * same bundle into the same volumes (plain, and with its volumes fsynced as ours are).
 * Then the installer on those media installs straight from the volumes onto embedded
 * defaults (OCI layout directory, SQLite, a config root): its peak RSS, and the peak disk it
 * uses beyond what it installs, sampled while it runs. The same install from the bundle file
 * runs beside it for comparison.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskWatch, allocatedByEntry, type DiskPeak } from '../disk-watch.js';
import { measureContenders, type Command, type Contender } from '../measure.js';
import { airlockBuild, airlockInstall, airlockMediaWrite, generateKey } from '../ours.js';
import { ratioTarget, rowsFor, rssTarget, type BenchContext, type Row, type Scenario, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { splitVolumes, splitVolumesSynced } from '../stock.js';
import { ensureSyntheticImages } from '../synthetic-images.js';
import { describeFiles, ensureSyntheticRelease } from '../synthetic-release.js';
import { formatBytes, GiB, MiB } from '../units.js';
import { assertFreeSpace } from '../workdir.js';

/** The configs directory: 150 files of up to 256 KiB and two of 1–10 MiB; the images take the rest of the size. */
const CONFIG_BYTES = 16 * MiB;
const CONFIG_SMALL_FILES = 150;
/** Base layer and three application layers, equal sizes. */
const LAYERS = 4;
/** Volume size = payload size / this: several volumes, each cut falling inside an image blob. */
const VOLUMES_PER_PAYLOAD = 4;
const DATABASE = 'bench';
const FLOOR_RATIO_TARGET = 0.9;
const EXTRA_DISK_SHARE = 0.05;
/** Top-level entries of the install root that are not install targets. */
const SCRATCH = ['state', 'tmp', 'home'];
const TARGETS = ['etc', 'images', 'db'];

export const mediaScenario: Scenario = {
  name: 'media',
  description: 'airlock media write vs split -b on the same bundle; install from the volumes (OCI layout + SQLite): peak RSS and peak extra disk',
  perSize: true,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { cli, workDir, size, runs, say } = context;
    if (size.bytes < CONFIG_BYTES + 16 * MiB) throw new Error(`the media scenario needs --size of at least ${formatBytes(CONFIG_BYTES + 16 * MiB)}`);
    const releaseDir = join(workDir, 'release');
    const layerBytes = Math.floor((size.bytes - CONFIG_BYTES) / LAYERS);
    const images = await ensureSyntheticImages(join(releaseDir, 'images'), { baseBytes: layerBytes, appBytes: layerBytes }, say);
    const release = ensureSyntheticRelease(releaseDir, CONFIG_BYTES, say, { smallFiles: CONFIG_SMALL_FILES, images: { layout: 'images', tags: images.tags }, migrations: { database: DATABASE } });

    const outDir = join(workDir, 'bundle');
    const mediaDir = join(workDir, 'media');
    const splitDir = join(workDir, 'split');
    const siteDir = join(workDir, 'site');
    const root = join(siteDir, 'root');
    for (const dir of [outDir, mediaDir, splitDir, siteDir]) rmSync(dir, { recursive: true, force: true });
    await assertFreeSpace(workDir, Math.ceil(size.bytes * 4 * 1.05) + GiB, 'the media scenario', 'bundle, media, split volumes and the installed copy, each about the payload size');

    // The key is new each run, so the bundle is built each run (untimed: issue 2's scenario times build).
    const key = generateKey(cli, join(workDir, 'signer'));
    mkdirSync(outDir, { recursive: true });
    say('building the bundle (untimed)');
    const build = airlockBuild(cli, release.manifest, key, outDir);
    execFileSync(build.argv[0]!, build.argv.slice(1), { env: { ...process.env, ...build.env }, stdio: ['ignore', 'ignore', 'inherit'] });
    const bundle = join(outDir, 'bench-1.0.0.airlock');
    const bundleBytes = statSync(bundle).size;
    const volumeBytes = Math.floor(size.bytes / VOLUMES_PER_PAYLOAD);

    say(`media write: ${formatBytes(bundleBytes)} bundle into volumes of ${formatBytes(volumeBytes)}`);
    const write = await measureContenders(
      [
        { name: 'airlock media write', role: 'ours', command: airlockMediaWrite(cli, bundle, mediaDir, volumeBytes, key), inputs: [bundle], outputs: [mediaDir] },
        { name: 'split -b (floor)', role: 'stock', command: splitVolumes(bundle, volumeBytes, splitDir), inputs: [bundle], outputs: [splitDir] },
        { name: 'same split + fsync of the volumes', role: 'stock', command: splitVolumesSynced(bundle, volumeBytes, splitDir), inputs: [bundle], outputs: [splitDir] },
      ] satisfies Contender[],
      runs,
      workDir,
      say,
    );
    const volumes = assertSameVolumes(mediaDir, splitDir);
    rmSync(splitDir, { recursive: true, force: true });

    mkdirSync(siteDir, { recursive: true });
    const site = join(siteDir, 'site.yaml');
    writeFileSync(site, siteFile(key.trustDir, root));
    const watches = { volumes: new DiskWatch(root, SCRATCH), file: new DiskWatch(root, SCRATCH) };
    say(`install onto an OCI layout, SQLite and a config root, sampling disk use under ${root}:`);
    const install = await measureContenders(
      [
        { name: 'airlock install from the volumes (installer on the media)', role: 'ours', command: withScratch(airlockInstall(join(mediaDir, 'airlock-installer.mjs'), mediaDir, site), root), inputs: [mediaDir], outputs: [root], monitor: watches.volumes },
        { name: 'airlock install from the bundle file', role: 'ours', command: withScratch(airlockInstall(cli, bundle, site), root), inputs: [bundle], outputs: [root], monitor: watches.file },
      ] satisfies Contender[],
      runs,
      workDir,
      say,
    );
    const installed = assertInstalled(root, join(releaseDir, 'images'), release.files.length);

    const rows: Row[] = [...rowsFor(this.name, size.label, 'media write', bundleBytes, write), ...rowsFor(this.name, size.label, 'install', bundleBytes, install)];
    const row = (name: string) => rows.find((candidate) => candidate.contender === name)!;
    const extra = (peak: DiskPeak) => Math.max(peak.outside, peak.total - installed.targetBytes);
    const volumesPeak = watches.volumes.peak();
    const filePeak = watches.file.peak();
    const targets: TargetCheck[] = [
      ratioTarget('media', size.label, 'media write ≥ 0.9× split -b', row(write[1]!.name), FLOOR_RATIO_TARGET),
      ratioTarget('media', size.label, 'media write ≥ 0.9× split -b + fsync', row(write[2]!.name), FLOOR_RATIO_TARGET),
      rssTarget('media', size.label, 'media write peak RSS', row(write[0]!.name).peakRssBytes),
      rssTarget('media', size.label, 'install from volumes peak RSS', row(install[0]!.name).peakRssBytes),
      {
        scenario: 'media',
        size: size.label,
        name: 'install from volumes peak extra disk',
        target: `< ${EXTRA_DISK_SHARE * 100}% of the bundle`,
        actual: `${((extra(volumesPeak) / bundleBytes) * 100).toFixed(2)}% (${formatBytes(extra(volumesPeak))})`,
        pass: extra(volumesPeak) < bundleBytes * EXTRA_DISK_SHARE,
      },
    ];
    const peakText = (peak: DiskPeak) =>
      `state + TMPDIR + HOME peaked at ${formatBytes(peak.outside)}, everything under the root at ${formatBytes(peak.total)} (${formatBytes(peak.total - installed.targetBytes)} over the final targets)`;
    return {
      rows,
      targets,
      notes: [
        `${size.label}: release = ${images.tags.length} images from an OCI layout (${formatBytes(layerBytes)} base layer shared by all, one ${formatBytes(layerBytes)} layer each; ${formatBytes(images.uniqueBlobBytes)} of blobs), configs of ${describeFiles(release.files)}, ${DATABASE}: 3 SQLite migrations. Bundle ${formatBytes(bundleBytes)} (${bundleBytes.toLocaleString('en')} bytes), ${volumes} volumes of ${formatBytes(volumeBytes)}.`,
        `${size.label}: media write cuts and hashes every volume, hashes the whole bundle (two reads of the bundle, on both cores), copies the installer and its SQLite driver (~6 MB), signs SHA256SUMS.media and fsyncs everything; split -b only copies. MiB/s counts the bundle's bytes.`,
        `${size.label}: install = the media's airlock-installer.mjs (or dist/airlock.mjs for the file) with --yes on a site whose targets are an OCI layout directory, a SQLite file and a config root, all under one root directory with the state directory, TMPDIR and HOME; the root is emptied before each run. Disk use under it (allocated blocks, each inode once) was sampled every 50 ms during every run (warm-up included: ${volumesPeak.samples} samples from the volumes, ${filePeak.samples} from the file). Extra disk = the larger of the peak of state + TMPDIR + HOME and the peak of the whole root less the final targets (so temp files inside the targets, such as the layout's ingest/, count too). Files unlinked while open are not seen.`,
        `${size.label}: final targets ${formatBytes(installed.targetBytes)} (OCI layout ${formatBytes(installed.entries.get('images') ?? 0)}, configs ${formatBytes(installed.entries.get('etc') ?? 0)}, SQLite ${formatBytes(installed.entries.get('db') ?? 0)}) for a ${formatBytes(bundleBytes)} bundle; state directory left ${formatBytes(installed.entries.get('state') ?? 0)}. From the volumes: ${peakText(volumesPeak)}. From the bundle file: ${peakText(filePeak)}.`,
      ],
    };
  },
};

/** Runs the command with TMPDIR and HOME inside the install root (created first: the root is emptied before each run), so their use is measured. */
function withScratch(command: Command, root: string): Command {
  return {
    ...command,
    argv: ['sh', '-c', 'mkdir -p "$TMPDIR" "$HOME" && exec "$0" "$@"', ...command.argv],
    env: { ...command.env, TMPDIR: join(root, 'tmp'), HOME: join(root, 'home') },
  };
}

function siteFile(trustDir: string, root: string): string {
  return [
    '# Written by bench/scenarios/media.ts (npm run bench -- --only media).',
    'site: bench',
    'environment: prod',
    `stateDir: ${JSON.stringify(join(root, 'state'))}`,
    `trust: ${JSON.stringify(trustDir)}`,
    'targets:',
    `  configRoot: ${JSON.stringify(join(root, 'etc'))}`,
    '  databases:',
    `    ${DATABASE}: { sqlite: { file: ${JSON.stringify(join(root, 'db', `${DATABASE}.db`))} } }`,
    `  images: { ociLayout: ${JSON.stringify(join(root, 'images'))} }`,
    '',
  ].join('\n');
}

/** Our volumes must be split's, byte for byte in size and number (the contents are checked by the install, which verifies every byte). */
function assertSameVolumes(mediaDir: string, splitDir: string): number {
  const volumes = (dir: string) => readdirSync(dir).filter((name) => /\.airlock\.\d{3,}$/.test(name)).sort();
  const ours = volumes(mediaDir);
  const theirs = volumes(splitDir);
  const sizes = (dir: string, names: string[]) => names.map((name) => `${name}:${statSync(join(dir, name)).size}`).join(' ');
  if (ours.length < 2 || sizes(mediaDir, ours) !== sizes(splitDir, theirs)) {
    throw new Error(`media write and split disagree on the volumes: ${sizes(mediaDir, ours)} vs ${sizes(splitDir, theirs)}`);
  }
  return ours.length;
}

/** A benchmark of an install that did not land means nothing: every image tagged at its digest, every config, every migration. */
function assertInstalled(root: string, sourceLayout: string, configFiles: number): { targetBytes: number; entries: Map<string, number> } {
  const digests = (layout: string) =>
    (JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }).manifests.map((manifest) => manifest.digest).sort().join(' ');
  if (digests(join(root, 'images')) !== digests(sourceLayout)) throw new Error(`the installed OCI layout holds ${digests(join(root, 'images'))}, expected ${digests(sourceLayout)}`);
  const rows = execFileSync('sqlite3', [join(root, 'db', `${DATABASE}.db`), 'SELECT count(*) FROM bench_items'], { encoding: 'utf8' }).trim();
  if (rows !== '10000') throw new Error(`the SQLite database holds ${rows} rows, expected 10000`);
  const installedConfigs = readdirSync(join(root, 'etc'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
  if (installedConfigs !== configFiles) throw new Error(`the config root holds ${installedConfigs} files, expected ${configFiles}`);
  const entries = allocatedByEntry(root);
  return { targetBytes: TARGETS.reduce((sum, name) => sum + (entries.get(name) ?? 0), 0), entries };
}

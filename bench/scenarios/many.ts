/**
 * Issue 14's many-files benchmark: a release of N files of 100 B–4 KiB (--files, default
 * 2k/20k/200k), each step against the stock command doing the same work in the same run:
 * build vs `tar | tee | openssl dgst`, verify vs `sha256sum -c` in an extracted copy, the first
 * install vs `tar -xf && sync`, the same install again (nothing to do) against Node's start-up,
 * --reinstall against the first install; peak RSS, and time per file across the counts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureManyFilesRelease } from '../many-files.js';
import { measureContenders, type Command, type Contender } from '../measure.js';
import { airlockBuild, airlockInstall, airlockVerify, generateKey, siteYaml } from '../ours.js';
import { rowsFor, type BenchContext, type Row, type Scenario, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { checkOpensslDigest, opensslDigest, sha256sumCheck, tarTeeOpenssl } from '../stock.js';

/** The issue's goals: ours' time at most this many times the stock command's. */
const BUILD_GOAL = 2;
const VERIFY_GOAL = 1;
const INSTALL_GOAL = 3;
const REINSTALL_GOAL = 3;
const NO_OP_WORK_SECONDS = 1;
const GROWTH_GOAL = 1.5;

function tarExtractSynced(bundle: string, dir: string): Command {
  return { argv: ['bash', '-c', 'set -euo pipefail; mkdir -p "$2"; tar -xf "$1" -C "$2"; sync', 'extract', bundle, dir] };
}

function siteFile(dir: string, trustDir: string): string {
  const file = join(dir, 'site.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, siteYaml(trustDir));
  return file;
}

const times = (ours: Row, stock: Row) => ours.seconds / stock.seconds;

function atMost(size: string, name: string, ratio: number, goal: number, detail: string): TargetCheck {
  return { scenario: 'many', size, name, target: `≤ ${goal.toFixed(1)}×`, actual: `${ratio.toFixed(2)}× (${detail})`, pass: ratio <= goal };
}

async function measureCount(context: BenchContext, files: number, rows: Row[], targets: TargetCheck[], notes: string[]): Promise<void> {
  const { cli, workDir, runs, say } = context;
  const dir = join(workDir, String(files));
  const release = ensureManyFilesRelease(join(dir, 'release'), files, say);
  const size = `${files.toLocaleString('en')} files`;
  const key = generateKey(cli, join(dir, 'signer'));
  const out = join(dir, 'ours');
  const bundle = join(out, 'many-1.0.0.airlock');
  const floorTar = join(dir, 'floor.tar');
  mkdirSync(out, { recursive: true });
  const measure = (contenders: Contender[]) => measureContenders(contenders, runs, dir, say);

  say(`build (${size}):`);
  const build = await measure([
    { name: 'airlock build', role: 'ours', command: airlockBuild(cli, release.manifest, key, out), inputs: [release.payloadDir], outputs: [bundle] },
    { name: 'tar -cf - dir | tee out | openssl dgst -sha256', role: 'stock', command: tarTeeOpenssl(release.dir, 'payload', floorTar), inputs: [release.payloadDir], outputs: [floorTar], check: checkOpensslDigest },
  ]);
  rmSync(floorTar, { force: true });

  const extracted = join(dir, 'extracted');
  rmSync(extracted, { recursive: true, force: true });
  mkdirSync(extracted);
  execFileSync('tar', ['-xf', bundle, '-C', extracted]);
  say(`verify (${size}):`);
  const verify = await measure([
    { name: 'airlock verify', role: 'ours', command: airlockVerify(cli, bundle, key), inputs: [bundle] },
    { name: 'sha256sum -c --strict (extracted copy)', role: 'stock', command: sha256sumCheck(extracted), inputs: [extracted] },
    { name: 'openssl dgst -sha256 <bundle> (floor)', role: 'stock', command: opensslDigest(bundle), inputs: [bundle], check: checkOpensslDigest },
  ]);
  rmSync(extracted, { recursive: true, force: true });

  const fresh = join(dir, 'fresh');
  const freshSite = siteFile(fresh, key.trustDir);
  const copy = join(dir, 'tar-x');
  say(`first install (${size}):`);
  const first = await measure([
    {
      name: 'airlock install --yes (first, empty site)',
      role: 'ours',
      command: airlockInstall(cli, bundle, freshSite),
      inputs: [bundle],
      prepare: () => ['state', 'etc'].forEach((name) => rmSync(join(fresh, name), { recursive: true, force: true })),
    },
    { name: 'tar -xf bundle && sync', role: 'stock', command: tarExtractSynced(bundle, copy), inputs: [bundle], outputs: [copy] },
  ]);
  rmSync(copy, { recursive: true, force: true });

  // The site stays installed from the last first-install run: the same bundle again is the quick no-op.
  say(`again, and --reinstall (${size}):`);
  const again = await measure([
    { name: 'airlock install again (already installed: nothing to do)', role: 'ours', command: airlockInstall(cli, bundle, freshSite), inputs: [bundle] },
    { name: 'node dist/airlock.mjs --version (start-up)', role: 'stock', command: { argv: [process.execPath, cli, '--version'] }, inputs: [] },
  ]);
  const reinstallCommand = airlockInstall(cli, bundle, freshSite);
  const reinstall = await measure([{ name: 'airlock install --reinstall', role: 'ours', command: { ...reinstallCommand, argv: [...reinstallCommand.argv, '--reinstall'] }, inputs: [bundle] }]);
  const bundleBytes = Number(execFileSync('stat', ['-c', '%s', bundle], { encoding: 'utf8' }));
  rmSync(dir, { recursive: true, force: true });

  const mine: Row[] = [
    ...rowsFor('many', size, 'build', release.bytes, build),
    ...rowsFor('many', size, 'verify', release.bytes, verify),
    ...rowsFor('many', size, 'install', release.bytes, first),
    ...rowsFor('many', size, 'install again', release.bytes, again),
    ...rowsFor('many', size, 'reinstall', release.bytes, reinstall),
  ];
  rows.push(...mine);
  const row = (operation: string, role: 'ours' | 'stock', index = 0) => mine.filter((r) => r.operation === operation && r.role === role)[index]!;
  const rssLimit = files > 20_000 ? 300e6 : 200e6;
  targets.push(
    atMost(size, 'build ≤ 2× tar|tee|openssl', times(row('build', 'ours'), row('build', 'stock')), BUILD_GOAL, `${row('build', 'ours').seconds.toFixed(2)} s / ${row('build', 'stock').seconds.toFixed(2)} s`),
    atMost(size, 'verify ≤ 1× sha256sum -c', times(row('verify', 'ours'), row('verify', 'stock')), VERIFY_GOAL, `${row('verify', 'ours').seconds.toFixed(2)} s / ${row('verify', 'stock').seconds.toFixed(2)} s`),
    atMost(size, 'first install ≤ 3× tar -xf && sync', times(row('install', 'ours'), row('install', 'stock')), INSTALL_GOAL, `${row('install', 'ours').seconds.toFixed(2)} s / ${row('install', 'stock').seconds.toFixed(2)} s`),
    atMost(size, '--reinstall ≤ 3× the first install', times(row('reinstall', 'ours'), row('install', 'ours')), REINSTALL_GOAL, `${row('reinstall', 'ours').seconds.toFixed(2)} s / ${row('install', 'ours').seconds.toFixed(2)} s`),
  );
  const work = row('install again', 'ours').seconds - row('install again', 'stock').seconds;
  targets.push({ scenario: 'many', size, name: 'install again: work beyond start-up', target: `< ${NO_OP_WORK_SECONDS} s`, actual: `${work.toFixed(2)} s (${row('install again', 'ours').seconds.toFixed(2)} s, start-up ${row('install again', 'stock').seconds.toFixed(2)} s)`, pass: work < NO_OP_WORK_SECONDS });
  for (const operation of ['build', 'verify', 'install', 'reinstall']) {
    const peak = row(operation, 'ours').peakRssBytes;
    targets.push({ scenario: 'many', size, name: `${operation} peak RSS`, target: `< ${rssLimit / 1e6} MB`, actual: `${(peak / 1e6).toFixed(0)} MB`, pass: peak < rssLimit });
  }
  notes.push(`${size}: ${(release.bytes / 1e6).toFixed(1)} MB of content in ${Math.ceil(files / 100).toLocaleString('en')} directories of 100 files (100 B–4 KiB each); bundle ${(bundleBytes / 1e6).toFixed(1)} MB.`);
}

/** Time per file of ours at each count: linear growth keeps it level. */
function growthTargets(rows: readonly Row[], counts: readonly number[]): { targets: TargetCheck[]; note: string } {
  const perFile = (operation: string, files: number) => {
    const row = rows.find((r) => r.operation === operation && r.role === 'ours' && r.size === `${files.toLocaleString('en')} files`)!;
    return (row.seconds / files) * 1e6;
  };
  const sorted = [...counts].sort((a, b) => a - b);
  const lines: string[] = [];
  const targets: TargetCheck[] = [];
  for (const operation of ['build', 'verify', 'install']) {
    const points = sorted.map((files) => `${files.toLocaleString('en')}: ${perFile(operation, files).toFixed(0)} µs`);
    lines.push(`${operation} ${points.join(', ')}`);
    if (sorted.length < 2) continue;
    const [largest, before] = [sorted.at(-1)!, sorted.at(-2)!];
    const growth = perFile(operation, largest) / perFile(operation, before);
    targets.push({ scenario: 'many', size: `${before.toLocaleString('en')}→${largest.toLocaleString('en')} files`, name: `${operation}: time per file grows at most 1.5×`, target: `≤ ${GROWTH_GOAL}×`, actual: `${growth.toFixed(2)}×`, pass: growth <= GROWTH_GOAL });
  }
  return { targets, note: `time per file (ours, median): ${lines.join('; ')}.` };
}

export const manyScenario: Scenario = {
  name: 'many',
  description: 'releases of many small files (--files): build, verify, install, the no-op and --reinstall against tar, sha256sum and Node start-up',
  perSize: false,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const rows: Row[] = [];
    const targets: TargetCheck[] = [];
    const notes: string[] = [];
    for (const files of context.files) await measureCount(context, files, rows, targets, notes);
    const growth = growthTargets(rows, context.files);
    notes.push(growth.note, 'install: a fresh site (state and config root emptied before each run, untimed) on the same filesystem as the bundle; tar -xf extracts into a fresh directory and syncs. The no-op runs on the site the last first-install run left; its start-up contender is `airlock --version` (Node loading the bundled CLI).');
    return { rows, targets: [...targets, ...growth.targets], notes };
  },
};

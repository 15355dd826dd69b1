/**
 * Issue 2's benchmark: `airlock build` and `airlock verify` of a synthetic release against the
 * stock floors for the same work, and ours' peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { measureContenders, type Contender } from '../measure.js';
import { airlockBuild, airlockVerify, generateKey } from '../ours.js';
import { ratioTarget, rowsFor, rssTarget, type BenchContext, type Row, type Scenario, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { checkOpensslDigest, opensslDigest, sha256sumCheck, tarTeeOpenssl, tarTeeOpensslSynced } from '../stock.js';
import { describeFiles, ensureSyntheticRelease } from '../synthetic-release.js';
import { MiB } from '../units.js';

const FLOOR_RATIO_TARGET = 0.9;

export const bundleScenario: Scenario = {
  name: 'bundle',
  description: 'airlock build / verify of a synthetic release vs tar|tee|openssl, openssl dgst and sha256sum -c',
  perSize: true,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { cli, workDir, size, runs, say } = context;
    const release = ensureSyntheticRelease(join(workDir, 'release'), size.bytes, say);
    const key = generateKey(cli, join(workDir, 'signer'));
    const oursOut = join(workDir, 'ours');
    const bundle = join(oursOut, 'bench-1.0.0.airlock');
    const floorTar = join(workDir, 'floor.tar');
    mkdirSync(oursOut, { recursive: true });

    say(`build: ${release.files.length} files, ${(size.bytes / MiB).toFixed(0)} MiB payload`);
    const build = await measureContenders(
      [
        { name: 'airlock build', role: 'ours', command: airlockBuild(cli, release.manifest, key, oursOut), inputs: [release.payloadDir], outputs: [bundle] },
        { name: 'tar | tee | openssl dgst (floor)', role: 'stock', command: tarTeeOpenssl(release.dir, 'payload', floorTar), inputs: [release.payloadDir], outputs: [floorTar], check: checkOpensslDigest },
        { name: 'same floor + fsync of the output', role: 'stock', command: tarTeeOpensslSynced(release.dir, 'payload', floorTar), inputs: [release.payloadDir], outputs: [floorTar], check: checkOpensslDigest },
      ] satisfies Contender[],
      runs,
      workDir,
      say,
    );
    rmSync(floorTar, { force: true });
    if (!existsSync(bundle)) throw new Error(`${bundle}: airlock build left no bundle`);

    // sha256sum -c works in an extracted copy, as a security officer would run it.
    const extracted = join(workDir, 'extracted');
    rmSync(extracted, { recursive: true, force: true });
    mkdirSync(extracted);
    execFileSync('tar', ['-xf', bundle, '-C', extracted]);

    say('verify:');
    const verify = await measureContenders(
      [
        { name: 'airlock verify', role: 'ours', command: airlockVerify(cli, bundle, key), inputs: [bundle] },
        { name: 'openssl dgst -sha256 <bundle> (floor)', role: 'stock', command: opensslDigest(bundle), inputs: [bundle], check: checkOpensslDigest },
        { name: 'sha256sum -c (extracted copy)', role: 'stock', command: sha256sumCheck(extracted), inputs: [extracted] },
      ] satisfies Contender[],
      runs,
      workDir,
      say,
    );
    rmSync(extracted, { recursive: true, force: true });

    const rows: Row[] = [
      ...rowsFor(this.name, size.label, 'build', size.bytes, build),
      ...rowsFor(this.name, size.label, 'verify', size.bytes, verify),
    ];
    const ratio = (operation: string, stock: string) => rows.find((row) => row.operation === operation && row.contender === stock)!;
    const ours = (operation: string) => rows.find((row) => row.operation === operation && row.role === 'ours')!;
    const targets: TargetCheck[] = [
      ratioTarget('bundle', size.label, 'build ≥ 0.9× tar|tee|openssl', ratio('build', build[1]!.name), FLOOR_RATIO_TARGET),
      ratioTarget('bundle', size.label, 'verify ≥ 0.9× openssl dgst', ratio('verify', verify[1]!.name), FLOOR_RATIO_TARGET),
      rssTarget('bundle', size.label, 'build peak RSS', ours('build').peakRssBytes),
      rssTarget('bundle', size.label, 'verify peak RSS', ours('verify').peakRssBytes),
    ];
    return {
      rows,
      targets,
      notes: [
        `${size.label}: ${describeFiles(release.files)}; one environment's configs map the payload directory.`,
        `${size.label}: bundle ${(Number(execFileSync('stat', ['-c', '%s', bundle], { encoding: 'utf8' })) / MiB).toFixed(1)} MiB.`,
      ],
    };
  },
};

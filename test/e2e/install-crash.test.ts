/**
 * kill -9 at every point of an install, then the same command again: the site must end up
 * exactly as after an uninterrupted install (config files and modes, schema, history table,
 * state), with no journal, lock or temp file left over. The installer kills itself at a named
 * point (AIRLOCK_TEST_CRASH_AT, test-only, docs/INSTALL.md); the points are those an
 * uninterrupted run reports through AIRLOCK_TEST_CRASH_LIST, so none is forgotten.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_FILES } from '../../src/fs/durable-batch.js';
import { runCli } from '../support/cli.js';
import {
  auditLines,
  exampleReleases,
  copySite,
  install,
  makeFixture,
  makeSite,
  snapshot,
  walk,
  type Fixture,
  type TestSite,
} from '../support/install-fixture.js';

let fixture: Fixture;
let v100: string;
let v110: string;
let base: TestSite;

beforeAll(async () => {
  fixture = await makeFixture();
  ({ v100, v110 } = await exampleReleases(fixture));
  base = await makeSite(fixture);
  expect((await install(v100, base)).code).toBe(0);
});

/** Runs an install uninterrupted and returns every crash point it passed, in order. */
async function crashPoints(bundle: string, site: TestSite): Promise<string[]> {
  const list = join(site.dir, 'points.txt');
  const result = await runCli(['install', bundle, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_LIST: list } });
  expect(result.code, result.stderr).toBe(0);
  return (await readFile(list, 'utf8')).split('\n').filter(Boolean);
}

async function crashThenRerun(bundle: string, from: TestSite, point: string): Promise<{ site: TestSite; rerun: { code: number; stdout: string; stderr: string } }> {
  const site = await copySite(from);
  const crashed = await runCli(['install', bundle, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: point } });
  expect(crashed.code, `${point} should have killed the installer; stderr: ${crashed.stderr}`).toBe(-1);
  const rerun = await install(bundle, site);
  return { site, rerun };
}

async function leftovers(site: TestSite): Promise<string[]> {
  return (await readdir(site.state)).filter((name) => name === 'journal.jsonl' || name === 'install.lock');
}

/** Runs fn over items, a few at a time (each item spawns two installer processes). */
async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe('kill -9 during an install, then the same command again', () => {
  it('gives the same site as an uninterrupted upgrade, whatever the point', { timeout: 300_000 }, async () => {
    const reference = await copySite(base);
    const points = await crashPoints(v110, reference);
    expect(points).toEqual(
      expect.arrayContaining(['begin', 'done:migrate:shop:V4', 'start:backup', 'write:shop/app.yaml', 'done:configs:1', 'end:succeeded']),
    );
    const expected = await snapshot(reference);

    await inBatches(points, 4, async (point) => {
      const { site, rerun } = await crashThenRerun(v110, base, point);
      expect(rerun.code, `${point}: ${rerun.stderr}`).toBe(0);
      if (point === 'end:succeeded') expect(rerun.stdout).toContain('had already ended: succeeded');
      else expect(rerun.stdout).toContain('Resuming the interrupted install');
      expect(await snapshot(site), point).toEqual(expected);
      expect(await leftovers(site), point).toEqual([]);
      const last = (await auditLines(site)).at(-1);
      expect(last, point).toMatchObject({ action: 'install', outcome: 'succeeded', release: { version: '1.1.0' } });
    });
  });

  it('names what it resumes: the steps done and the one interrupted', async () => {
    const { rerun } = await crashThenRerun(v110, base, 'start:configs:1');
    expect(rerun.stdout).toMatch(/Resuming the interrupted install \S+ of shop 1\.1\.0/);
    expect(rerun.stdout).toMatch(/\d of 8 steps were done/);
    expect(rerun.stdout).toContain('interrupted during configs:1: running it again');
    expect(rerun.stdout).toContain('then: hook:postInstall:reload-service, health:config-complete, record');
    expect((await auditLines((await crashThenRerun(v110, base, 'done:backup')).site)).at(-1)).toMatchObject({ resumed: true });
  });

  it('finishes a first install killed between migrations and during config writes', { timeout: 120_000 }, async () => {
    const empty = await makeSite(fixture);
    const reference = await copySite(empty);
    expect((await install(v100, reference)).code).toBe(0);
    const expected = await snapshot(reference);
    await inBatches(['done:migrate:shop:V1', 'start:migrate:shop:V3', 'write:shop/app.yaml', 'done:configs:1'], 4, async (point) => {
      const { site, rerun } = await crashThenRerun(v100, empty, point);
      expect(rerun.code, `${point}: ${rerun.stderr}`).toBe(0);
      expect(await snapshot(site), point).toEqual(expected);
    });
  });

  it('refuses another bundle while a run is unfinished, and rollback undoes the interrupted one instead', async () => {
    const site = await copySite(base);
    const before = await snapshot(site);
    const crashed = await runCli(['install', v110, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: 'write:shop/app.yaml' } });
    expect(crashed.code).toBe(-1);
    const other = await install(v100, site, '--reinstall');
    expect(other.stderr).toContain('INSTALL_INTERRUPTED');
    const status = await runCli(['status', '--site', site.file]);
    expect(status.stdout).toContain('INTERRUPTED: the install of shop 1.1.0');

    const rollback = await runCli(['rollback', '--site', site.file, '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('Roll back the interrupted install of shop 1.1.0');
    expect(rollback.stdout).toContain('stay applied (roll forward only): shop V4');
    const after = await snapshot(site);
    expect(after.configs).toEqual(before.configs);
    expect(after.state).toEqual(before.state);
    expect(await leftovers(site)).toEqual([]);
    expect((await install(v110, site)).code).toBe(0);
  });

  it('finishes a health-check reaction that was killed half-way', async () => {
    const failing = await fixture.build(
      (await fixture.manifest('shop-1.1.0.yaml')).replace(/\nhooks:[\s\S]*?(?=\nonHealthCheckFailure)/, '\nhooks:\n  healthCheck:\n    - { name: probe, script: crash/fail.sh }\n'),
      { 'crash/fail.sh': '#!/bin/sh\nexit 1\n' },
    );
    const { site, rerun } = await crashThenRerun(failing, base, 'failed:health:probe');
    expect(rerun.code).not.toBe(0);
    expect(rerun.stdout).toContain('it had failed at health:probe (HEALTH_CHECK_FAILED)');
    expect(rerun.stderr).toContain('configs restored to shop 1.0.0');
    const before = await snapshot(base);
    const after = await snapshot(site);
    expect(after.configs).toEqual(before.configs);
    expect(after.state).toEqual(before.state);
  });

  it('journals the rollback of an interrupted install: killed at any point of it, the next rollback finishes it', { timeout: 300_000 }, async () => {
    const interrupted = await copySite(base);
    const crashed = await runCli(['install', v110, '--site', interrupted.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: 'write:shop/app.yaml' } });
    expect(crashed.code).toBe(-1);
    const rollback = (site: TestSite, env: Record<string, string> = {}) => runCli(['rollback', '--site', site.file, '--yes', '--undo-migrations'], { env });

    const reference = await copySite(interrupted);
    const list = join(reference.dir, 'points.txt');
    const uninterrupted = await rollback(reference, { AIRLOCK_TEST_CRASH_LIST: list });
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    expect(await snapshot(reference)).toEqual(await snapshot(base));
    const points = (await readFile(list, 'utf8')).split('\n').filter(Boolean);
    // Its own begin, the undo of V4, the restore, the end of the install's journal, its own end.
    expect(points).toEqual(
      expect.arrayContaining(['begin', 'done:undo:shop:U4', expect.stringMatching(/^done:restore:/), 'failed:operator-rollback', 'end:rolled-back', 'end:succeeded']),
    );
    const outcomes = async (site: TestSite) => (await auditLines(site)).map((e) => `${e.action}:${e.outcome}`);
    const expected = await outcomes(reference);
    expect(expected.slice(-2)).toEqual(['install:rolled-back', 'rollback:succeeded']);

    await inBatches(points, 4, async (point) => {
      const site = await copySite(interrupted);
      const killed = await rollback(site, { AIRLOCK_TEST_CRASH_AT: point });
      expect(killed.code, `${point} should have killed the rollback; ${killed.stderr}`).toBe(-1);
      const again = await rollback(site);
      expect(again.code, `${point}: ${again.stderr}`).toBe(0);
      expect(await snapshot(site), point).toEqual(await snapshot(reference));
      expect(await leftovers(site), point).toEqual([]);
      expect(await outcomes(site), point).toEqual(expected);
      // The site takes the same upgrade again afterwards.
      expect((await install(v110, site)).code, point).toBe(0);
    });
  });

  it('finishes a rollback killed half-way when it is run again', async () => {
    const site = await copySite(base);
    const before = await snapshot(site);
    expect((await install(v110, site)).code).toBe(0);
    const crashed = await runCli(['rollback', '--site', site.file, '--yes', '--undo-migrations'], { env: { AIRLOCK_TEST_CRASH_AT: 'done:undo:shop:U4' } });
    expect(crashed.code).toBe(-1);
    const again = await runCli(['rollback', '--site', site.file, '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Resuming the interrupted rollback of shop 1.1.0');
    expect(await snapshot(site)).toEqual(before);
    expect(existsSync(join(site.state, 'journal.jsonl'))).toBe(false);
  });
});

describe('kill -9 while writing thousands of config files in batches', () => {
  const FILES = BATCH_FILES * 2 + 500;
  const dest = (i: number) => `web/d${i % 40}/f${i}.txt`;
  const content = (i: number) => `file ${i}\n`.repeat(1 + (i % 50));
  let many: string;
  let empty: TestSite;
  let expected: Awaited<ReturnType<typeof snapshot>>;
  /** The config writes of an uninterrupted install, in the order their renames happen. */
  let writes: string[];

  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`many/${dest(i)}`] = content(i);
    const nginx = '    - src: shop/1.0.0/configs/prod/nginx\n      dest: nginx/conf.d\n';
    many = await fixture.build((await fixture.manifest('shop.yaml')).replace(nginx, `${nginx}    - src: many/web\n      dest: web\n`), files);
    empty = await makeSite(fixture);
    const reference = await copySite(empty);
    writes = (await crashPoints(many, reference)).filter((point) => point.startsWith('write:'));
    expected = await snapshot(reference);
    expect(Object.keys(expected.configs).filter((path) => path.startsWith('web/'))).toHaveLength(FILES);
  }, 300_000);

  it('finishes the same site from a kill inside a batch, between batches and at a batch start', { timeout: 300_000 }, async () => {
    const points = [writes[BATCH_FILES + 700]!, 'done:configs:1', 'start:configs:3', writes.at(-1)!];
    await inBatches(points, 2, async (point) => {
      const { site, rerun } = await crashThenRerun(many, empty, point);
      expect(rerun.code, `${point}: ${rerun.stderr}`).toBe(0);
      expect(await snapshot(site), point).toEqual(expected);
      expect(await leftovers(site), point).toEqual([]);
      expect((await walk(site.etc)).filter((path) => path.endsWith('.airlock-tmp')), point).toEqual([]);
    });
  });

  it('leaves every file old or new at the kill: the batches before it whole, its own renamed up to the kill', async () => {
    const site = await copySite(empty);
    const crashed = await runCli(['install', many, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: writes[BATCH_FILES + 700]! } });
    expect(crashed.code).toBe(-1);
    const present = (await walk(site.etc)).filter((path) => !path.endsWith('.airlock-tmp'));
    expect(present.sort()).toEqual(writes.slice(0, BATCH_FILES + 700).map((point) => point.slice('write:'.length)).sort());
    for (const path of present.filter((p) => p.startsWith('web/'))) {
      expect(await readFile(join(site.etc, path), 'utf8'), path).toBe(content(Number(/f(\d+)\.txt$/.exec(path)![1])));
    }
  });
});

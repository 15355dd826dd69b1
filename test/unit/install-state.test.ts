import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import { AuditLog } from '../../src/install/audit.js';
import { installStepId, type InstallStep } from '../../src/install/install-steps.js';
import { Journal, readJournal, summarize } from '../../src/install/journal.js';
import { acquireSiteLock } from '../../src/install/lock.js';
import { readState, releaseConfigs, writeState, type ReleaseRecord, type SiteState } from '../../src/install/state.js';
import { installBeginRecord } from '../support/install-records.js';

const steps: InstallStep[] = [{ kind: 'prepare' }, { kind: 'backup', dests: ['a'] }, { kind: 'remove', dest: 'a' }, { kind: 'record' }];
const begin = installBeginRecord(steps);
const remaining = (file: string) => {
  const summary = readJournal(file)!;
  return summary.begin.kind === 'install' ? summary.begin.steps.map(installStepId).filter((id) => !summary.done.has(id)) : [];
};

describe('journal', () => {
  it('records start and done per step, and says which step a kill interrupted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-journal-'));
    const file = join(dir, 'journal.jsonl');
    const journal = Journal.create(file, begin);
    journal.append({ event: 'start', step: 'prepare' });
    journal.append({ event: 'done', step: 'prepare' });
    journal.append({ event: 'start', step: 'backup' });
    journal.close();
    const summary = readJournal(file)!;
    expect([...summary.done]).toEqual(['prepare']);
    expect(summary.interrupted).toBe('backup');
    expect(remaining(file)).toEqual(['backup', 'remove:a', 'record']);
  });

  it('ignores a line torn by a kill, and cuts it off before continuing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-journal-'));
    const file = join(dir, 'journal.jsonl');
    Journal.create(file, begin).close();
    await appendFile(file, '{"event":"start","st');
    expect(readJournal(file)!.interrupted).toBeUndefined();
    const journal = Journal.open(file);
    journal.append({ event: 'start', step: 'prepare' });
    journal.close();
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    expect(readJournal(file)!.interrupted).toBe('prepare');
  });

  it('refuses a journal whose complete lines are not records, naming the line', () => {
    const line = (record: unknown) => `${JSON.stringify(record)}\n`;
    const cases: Array<[string, string]> = [
      ['{"event":"begin"}\n', 'j.jsonl: line 1 is not a begin record'],
      // Typed per verb: an install's begin without its bundle, a rollback's without the install it undoes.
      [line({ ...begin, at: 't', bundleDigest: undefined }), 'line 1 is not a begin record'],
      [line({ ...begin, at: 't', kind: 'rollback' }), 'line 1 is not a begin record'],
      [line({ ...begin, at: 't' }) + line({ ...begin, at: 't' }), 'line 2 is not a journal record'],
      // A failure's code is one of airlock's error codes, not any string.
      [line({ ...begin, at: 't' }) + line({ event: 'failed', at: 't', step: 'prepare', code: 'NOT_A_CODE', message: 'm' }), 'line 2 is not a journal record'],
      [line({ ...begin, at: 't' }) + 'not json\n', 'line 2 is not JSON'],
    ];
    for (const [text, message] of cases) {
      try {
        summarize(text, 'j.jsonl');
        expect.unreachable();
      } catch (error) {
        expect(isAirlockError(error, 'JOURNAL_INVALID')).toBe(true);
        expect((error as Error).message).toContain(message);
      }
    }
    const failed = summarize(line({ ...begin, at: 't' }) + line({ event: 'failed', at: 't', step: 'prepare', code: 'HOOK_FAILED', message: 'm' }), 'j.jsonl');
    expect(failed?.failure?.code).toBe('HOOK_FAILED');
  });

  it('replaces whatever journal is there in one rename when a run begins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-journal-'));
    const file = join(dir, 'journal.jsonl');
    await writeFile(file, 'an old run\n');
    Journal.create(file, begin).close();
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
    expect(readJournal(file)?.begin.installId).toBe('run-1');
  });

  it('treats an empty or missing journal as no run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-journal-'));
    expect(readJournal(join(dir, 'none'))).toBeUndefined();
    await writeFile(join(dir, 'torn'), '{"event":"beg');
    expect(readJournal(join(dir, 'torn'))).toBeUndefined();
  });
});

describe('site lock', () => {
  it('lets one run in, names the holder to the next, and frees on release', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-lock-'));
    const lock = await acquireSiteLock(dir, 'install a');
    try {
      await acquireSiteLock(dir, 'install b');
      expect.unreachable();
    } catch (error) {
      expect(isAirlockError(error, 'INSTALL_LOCKED')).toBe(true);
      expect((error as Error).message).toContain(`pid ${process.pid}`);
      expect((error as Error).message).toContain('install a');
    }
    await lock.release();
    await (await acquireSiteLock(dir, 'install b')).release();
  });

  it('takes over the lock of a dead process on this host, never one from another host', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-lock-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const stale = { pid: Number(dead), host: hostname(), user: 'x', since: '2026-01-01T00:00:00Z', command: 'install old' };
    await writeFile(join(dir, 'install.lock'), JSON.stringify(stale));
    const lock = await acquireSiteLock(dir, 'install new');
    expect(lock.tookOver?.pid).toBe(Number(dead));
    await lock.release();

    await writeFile(join(dir, 'install.lock'), JSON.stringify({ ...stale, host: 'elsewhere' }));
    await expect(acquireSiteLock(dir, 'install new')).rejects.toThrow(/elsewhere/);
  });

  it.each([
    ['empty', ''],
    ['half written', '{"pid":12'],
  ])('treats a lock torn before its content was written (%s) as free', async (_name, content) => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-lock-'));
    await writeFile(join(dir, 'install.lock'), content);
    // Fresh: another run may be writing it this instant.
    await expect(acquireSiteLock(dir, 'x')).rejects.toThrow(/right now/);
    await utimes(join(dir, 'install.lock'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await (await acquireSiteLock(dir, 'x')).release();
  });
});

describe('audit log', () => {
  it('appends entries once per run and outcome, and survives a torn line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-audit-'));
    const entry = { action: 'install' as const, outcome: 'succeeded' as const, site: 's', environment: 'e', installId: 'run-1' };
    await AuditLog.read(dir).append(entry);
    // A resumed run that reaches the same conclusion again, read afresh.
    const log = AuditLog.read(dir);
    await log.append(entry);
    await appendFile(join(dir, 'audit.jsonl'), '{"at":"torn');
    await log.append({ ...entry, installId: 'run-2', overrides: ['--reinstall'] });
    await log.append({ ...entry, installId: 'run-2', overrides: ['--reinstall'] });
    const { entries } = AuditLog.read(dir);
    expect(log.entries).toEqual(entries);
    expect(entries.map((e) => e.installId)).toEqual(['run-1', 'run-2']);
    expect(entries[1]!.overrides).toEqual(['--reinstall']);
    expect(entries[0]!.user.length).toBeGreaterThan(0);
  });
});

describe('state.json text', () => {
  const release = (installId: string): ReleaseRecord => ({
    installId,
    name: 'shop',
    version: '1.1.0',
    bundleDigest: 'd'.repeat(64),
    bundleFile: '/media/shop-1.1.0.airlock',
    signers: [],
    installedAt: '2026-01-01T00:00:00.000Z',
    installedBy: 'ops',
    host: 'plant-a',
    health: 'none',
    configs: { 'app/app.conf': { sha256: 'a'.repeat(64), mode: 0o644, template: true, installId }, 'é/"quoted"\n.conf': { sha256: 'b'.repeat(64), mode: 0o600, template: false, installId } },
    images: [],
    migrations: { main: ['1', '2'] },
    receipt: `plant-a-${installId}.json`,
  });

  it('reads a v1 state.json with inline config records, and writes them to each install once (v2)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'airlock-state-'));
    const v1: SiteState = { format: 'airlock-state/v1', site: 'plant-a', environment: 'prod', releases: [release('one'), release('two')] };
    await writeFile(join(stateDir, 'state.json'), `${JSON.stringify(v1, null, 2)}\n`);
    const site = { site: 'plant-a', environment: 'prod' };
    const read = await readState(stateDir, site);
    expect(read).toEqual(v1);

    await writeState(stateDir, read);
    const onDisk = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as SiteState;
    expect(onDisk.format).toBe('airlock-state/v2');
    expect(onDisk.releases.map((r) => [r.installId, r.configs])).toEqual([['one', undefined], ['two', undefined]]);
    for (const r of v1.releases) expect(JSON.parse(await readFile(join(stateDir, 'installs', r.installId, 'configs.json'), 'utf8'))).toEqual(r.configs);

    // Records stay in their files until a run asks for a release's.
    const again = await readState(stateDir, site);
    expect(again.releases.map((r) => r.configs)).toEqual([undefined, undefined]);
    for (const [at, r] of again.releases.entries()) expect(await releaseConfigs(stateDir, r)).toEqual(v1.releases[at]!.configs);
  });

  it('refuses a release of a v2 state.json whose config records are not on disk, naming the file', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'airlock-state-'));
    const { configs: _, ...lost } = release('gone');
    await writeFile(join(stateDir, 'state.json'), JSON.stringify({ format: 'airlock-state/v2', site: 'plant-a', environment: 'prod', releases: [lost] }));
    const state = await readState(stateDir, { site: 'plant-a', environment: 'prod' });
    const error: unknown = await releaseConfigs(stateDir, state.releases[0]!).catch((e: unknown) => e);
    expect(isAirlockError(error) && error.code).toBe('JOURNAL_INVALID');
    expect((error as Error).message).toContain(join(stateDir, 'installs', 'gone', 'configs.json'));
  });
});

/**
 * The journaled runner shared by install and rollback, on a real journal file: a run stopped
 * dead at any step (the process gone mid-step: a step that never returns, its journal left as
 * a kill leaves it) and run again does every step, the interrupted one twice and the others
 * once; a failure is in the journal, with its code, before the caller gets to react to it; the
 * end record goes in before the journal moves into the run's directory.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/base/errors.js';
import { installStepId, type InstallStep } from '../../src/install/install-steps.js';
import { Journal, readJournal } from '../../src/install/journal.js';
import { endRun, runSteps, type Verb } from '../../src/install/journaled-run.js';
import { statePaths } from '../../src/install/state.js';
import { installBeginRecord } from '../support/install-records.js';

const steps: InstallStep[] = [
  { kind: 'prepare' },
  { kind: 'migrate', db: 'shop', version: '1', description: 'one', path: 'migrations/shop/V1__one.sql', checksum: 'c1' },
  { kind: 'migrate', db: 'shop', version: '2', description: 'two', path: 'migrations/shop/V2__two.sql', checksum: 'c2' },
  { kind: 'backup', dests: ['app.yaml'] },
  { kind: 'config', dest: 'app.yaml', path: 'configs/prod/app.yaml', template: false, mode: 0o644, sha256: 's' },
  { kind: 'record' },
];
const ids = steps.map(installStepId);

const begin = installBeginRecord(steps);

async function stateDir(): Promise<{ dir: string; journal: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-run-'));
  return { dir, journal: statePaths(dir).journal };
}

/** A verb that logs what it executed; `stop` makes that step never return, as if the process died in it. */
function verb(executed: string[], behave: (id: string) => 'run' | 'stop' | Error = () => 'run'): Verb<InstallStep> {
  return {
    stepId: installStepId,
    describe: installStepId,
    execute: (step) => {
      const id = installStepId(step);
      executed.push(id);
      const what = behave(id);
      if (what === 'stop') return new Promise<void>(() => undefined);
      if (what instanceof Error) return Promise.reject(what);
      return Promise.resolve();
    },
  };
}

describe('the journaled runner', () => {
  it('stopped dead at any step and run again, does each step once and the interrupted one twice', async () => {
    for (const [index, killedAt] of ids.entries()) {
      const { journal: file } = await stateDir();
      const executed: string[] = [];
      const first = Journal.create(file, begin);
      // The first run never gets past the killed step; whatever it wrote is what a kill leaves.
      void runSteps(first, steps, new Set(), verb(executed, (id) => (id === killedAt ? 'stop' : 'run')), () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      first.close();

      const summary = readJournal(file)!;
      expect(summary.interrupted, killedAt).toBe(killedAt);
      expect([...summary.done], killedAt).toEqual(ids.slice(0, index));

      const said: string[] = [];
      const done = new Set(summary.done);
      const failure = await runSteps(Journal.open(file), summary.begin.steps as InstallStep[], done, verb(executed), (line) => said.push(line));
      expect(failure, killedAt).toBeUndefined();
      expect(executed, killedAt).toEqual([...ids.slice(0, index + 1), ...ids.slice(index)]);
      expect(said, killedAt).toEqual(ids.slice(index).map((id) => `  done  ${id}`));
      expect([...readJournal(file)!.done], killedAt).toEqual(ids);
    }
  });

  it('journals a failure, with its code, before the caller reacts to it, and runs nothing after it', async () => {
    const { journal: file } = await stateDir();
    const executed: string[] = [];
    const failure = await runSteps(
      Journal.create(file, begin),
      steps,
      new Set(),
      verb(executed, (id) => (id === 'migrate:shop:V2' ? new AirlockError('MIGRATION_FAILED', 'V2 failed on database shop') : 'run')),
      () => undefined,
    );
    expect(failure).toMatchObject({ event: 'failed', step: 'migrate:shop:V2', code: 'MIGRATION_FAILED', message: 'V2 failed on database shop' });
    // What the caller's reaction reads, had the process died before reacting: the failure is already there.
    const journaled = readJournal(file)!;
    expect(journaled.failure).toMatchObject({ step: 'migrate:shop:V2', code: 'MIGRATION_FAILED' });
    expect([journaled.interrupted, journaled.outcome]).toEqual([undefined, undefined]);
    expect(executed).toEqual(['prepare', 'migrate:shop:V1', 'migrate:shop:V2']);
  });

  it('records anything but an AirlockError as INTERNAL: a bug, not a foreseen fault', async () => {
    const { journal: file } = await stateDir();
    const failure = await runSteps(Journal.create(file, begin), steps, new Set(), verb([], (id) => (id === 'prepare' ? new TypeError('x is undefined') : 'run')), () => undefined);
    expect(failure).toMatchObject({ code: 'INTERNAL', message: 'x is undefined' });
    expect(readJournal(file)?.failure?.code).toBe('INTERNAL');
  });

  it('ends a run with its end record, then moves the journal into the run directory', async () => {
    const { dir, journal: file } = await stateDir();
    const journal = Journal.create(file, begin);
    await runSteps(journal, steps, new Set(), verb([]), () => undefined);
    await endRun(dir, journal, 'run-1', 'succeeded');
    expect(existsSync(file)).toBe(false);
    const archived = statePaths(dir).runJournal('run-1');
    expect(readJournal(archived)).toMatchObject({ outcome: 'succeeded', begin: { installId: 'run-1' } });
    expect((await readFile(archived, 'utf8')).trimEnd().split('\n').at(-1)).toContain('"event":"end"');
  });
});

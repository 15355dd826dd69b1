/**
 * Carries out a rollback's journaled steps, or finishes one that a kill interrupted. Each step
 * is idempotent: an undo script whose migration is no longer in the history table is skipped,
 * a tag already pointing back is pointed back again, a restore whose install is off the stack
 * only puts files back, and concluding an install whose journal already ended does nothing.
 */
import { copyFileSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { ensureDir } from '../fs/durable.js';
import { fsyncPathSync } from '../fs/fsync-path.js';
import type { Site } from '../manifest/site.js';
import type { Output } from '../ui/output.js';
import type { Databases } from './databases.js';
import { recordOutcome } from './execute-install.js';
import { isInstallRun, Journal, readJournal, type JournalSummary, type RollbackBegin } from './journal.js';
import { endRun, runSteps, type Verb } from './journaled-run.js';
import type { Migration } from './plan-rollback.js';
import { undoInstall } from './release-stack.js';
import { rollbackStepId, type RollbackStep } from './rollback-steps.js';
import type { SiteRecords } from './site-records.js';
import { statePaths } from './state.js';
import { retagImage } from './targets/images.js';

export interface RollbackRun {
  site: Site;
  records: SiteRecords;
  databases: Databases;
  output: Output;
  journal: Journal;
  summary: JournalSummary<RollbackBegin>;
  resumed: boolean;
}

export interface RollbackReport {
  outcome: 'rolled-back';
  site: string;
  /** The install that was undone. */
  undone: { installId: string; name: string; version: string; interrupted: boolean };
  /** What the site is back on (null: nothing installed any more). */
  to: { name: string; version: string } | null;
  configsRestored: string[];
  migrationsUndone: Migration[];
  /** Migrations the undone install applied that stay applied (roll forward only). */
  migrationsKept: Migration[];
  /** Image tags pointed back at the previous release's digests. */
  imagesRetagged: Array<{ ref: string; digest: string }>;
  resumed: boolean;
}

/** The failure an interrupted install's journal ends with when the operator rolls it back. */
const OPERATOR_ROLLBACK = { step: 'operator-rollback', code: 'ABORTED', message: 'rolled back by the operator (airlock rollback)' } as const;

/**
 * Ends an interrupted install's own journal (moved into its directory when this rollback
 * began) as rolled back by the operator: its receipt, its audit line, its end record.
 */
async function concludeInterrupted(records: SiteRecords, installId: string): Promise<void> {
  const file = statePaths(records.site.stateDir).runJournal(installId);
  const summary = readJournal(file);
  if (summary === undefined || !isInstallRun(summary)) throw new AirlockError('JOURNAL_INVALID', `${file}: not the journal of install ${installId}`);
  if (summary.outcome !== undefined) return;
  const journal = Journal.open(file);
  try {
    if (summary.failure?.step !== OPERATOR_ROLLBACK.step) journal.append({ event: 'failed', ...OPERATOR_ROLLBACK });
    const failure = { event: 'failed' as const, at: new Date().toISOString(), ...OPERATOR_ROLLBACK };
    await recordOutcome(records, summary.begin, { outcome: 'rolled-back', health: 'none', done: summary.done, resumed: true, failure });
    journal.append({ event: 'end', outcome: 'rolled-back' });
  } finally {
    journal.close();
  }
}

/**
 * A rollback of an interrupted install that failed gives the site back its interrupted install,
 * so that the next `airlock rollback` (with other flags, perhaps) plans it again: this run's
 * journal is ended in its own directory, and the install's journal goes back in its place in
 * one rename. Killed before that rename, the site still has this rollback's journal, and the
 * next run resumes it.
 */
async function handBack(stateDir: string, journal: Journal, rollbackId: string, installId: string): Promise<void> {
  const paths = statePaths(stateDir);
  journal.close();
  await ensureDir(paths.install(rollbackId), 0o700);
  copyFileSync(paths.journal, paths.runJournal(rollbackId));
  const ended = Journal.open(paths.runJournal(rollbackId));
  ended.append({ event: 'end', outcome: 'failed' });
  ended.close();
  fsyncPathSync(paths.install(rollbackId));
  renameSync(paths.runJournal(installId), paths.journal);
  fsyncPathSync(stateDir);
}

function release(record: { name: string; version: string }): string {
  return `${record.name} ${record.version}`;
}

export async function executeRollback(run: RollbackRun): Promise<RollbackReport> {
  const { site, records, summary, output } = run;
  const { begin } = summary;
  const { target } = begin;
  const restored: string[] = [];
  const undone: Migration[] = [];
  const retagged: Array<{ ref: string; digest: string }> = [];
  const verb: Verb<RollbackStep> = {
    stepId: rollbackStepId,
    describe: (step) => (step.kind === 'conclude' ? `ended the interrupted install of ${release(target)}` : rollbackStepId(step)),
    async execute(step) {
      switch (step.kind) {
        case 'undo': {
          const db = await run.databases.get(step.db, { lock: true });
          if (await db.undo(step.version, await readFile(step.file, 'utf8'), step.file)) undone.push({ db: step.db, version: step.version });
          return;
        }
        case 'retag':
          if (site.images === undefined) throw new AirlockError('SITE_INVALID', `${site.file}: targets.images is not set; cannot point ${step.ref} back`);
          await retagImage(site.images, step, output);
          retagged.push({ ref: step.ref, digest: step.digest });
          return;
        case 'restore':
          restored.push(...(await undoInstall(records, step.installId, output)));
          return;
        case 'conclude':
          return concludeInterrupted(records, step.installId);
      }
    },
  };
  const failure = await runSteps(run.journal, begin.steps, new Set(summary.done), verb, (line) => output.say(line));
  await records.audit.append({
    action: 'rollback',
    outcome: failure === undefined ? 'succeeded' : 'failed',
    site: site.site,
    environment: site.environment,
    installId: begin.installId,
    release: { name: target.name, version: target.version },
    from: begin.to && { name: begin.to.name, version: begin.to.version },
    overrides: begin.overrides,
    ...(failure ? { code: failure.code, message: failure.message } : {}),
    ...(run.resumed ? { resumed: true } : {}),
    startedAt: begin.at,
  });
  if (failure !== undefined && target.interrupted) await handBack(site.stateDir, run.journal, begin.installId, target.installId);
  else await endRun(site.stateDir, run.journal, begin.installId, failure === undefined ? 'succeeded' : 'failed');
  if (failure !== undefined) {
    throw new AirlockError(failure.code, `rollback of ${release(target)} stopped at ${failure.step}: ${failure.message}; run airlock rollback again once that is fixed`);
  }
  return {
    outcome: 'rolled-back',
    site: site.site,
    undone: { installId: target.installId, name: target.name, version: target.version, interrupted: target.interrupted },
    to: begin.to && { name: begin.to.name, version: begin.to.version },
    configsRestored: restored,
    migrationsUndone: undone,
    migrationsKept: begin.kept,
    imagesRetagged: retagged,
    resumed: run.resumed,
  };
}

/**
 * `airlock rollback`: returns the site to the release before the installed one, or undoes
 * an install that a kill interrupted (when its bundle cannot or should not be re-run).
 * Configs are put back from the backup the install made; image tags stay as they are
 * (tags name versions, so the previous release's tags still point where they did);
 * migrations roll forward only, unless --undo-migrations runs the U<version>__ scripts the
 * install kept, newest first, each in its own transaction. Journaled like an install: a
 * killed rollback is finished by running it again.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AirlockError, type ErrorCode } from '../base/errors.js';
import { compareMigrationVersions } from '../manifest/release-migrations.js';
import { loadSite, type Site } from '../manifest/site.js';
import type { Output } from '../ui/output.js';
import { archiveJournal, conclude, installDirOf, OPERATOR_ROLLBACK, undoInstall, undoScriptPath } from './apply.js';
import { askConfirm } from '../ui/prompts.js';
import { appendAudit } from './audit.js';
import { exists } from '../fs/durable.js';
import { Journal, readJournal, type Begin, type JournalSummary } from './journal.js';
import { acquireSiteLock } from './lock.js';
import { ensureStateDir, readState, statePaths, type ReleaseRecord } from './state.js';
import { runSteps } from './step-runner.js';
import { stepId, type Step } from './steps.js';
import { openMigrationTarget } from './targets/database.js';
import { type MigrationTarget } from './targets/migration-target.js';
import { readBackup } from './targets/files.js';
import { retagImage } from './targets/images.js';
import { currentUser } from './who.js';

export interface RollbackRequest {
  siteFile: string;
  yes: boolean;
  undoMigrations: boolean;
  interactive: boolean;
}

type Migration = { db: string; version: string };

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

type Image = { ref: string; digest: string; mediaType?: string };

interface Target {
  installId: string;
  name: string;
  version: string;
  interrupted: boolean;
  to: { name: string; version: string } | null;
  migrations: Migration[];
  /** Images the undone install pushed, and those of the release it returns to. */
  images: Image[];
  previousImages: Image[];
}

function release(record: { name: string; version: string }): string {
  return `${record.name} ${record.version}`;
}

function runId(now: Date, target: { name: string; version: string }): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-rollback-${target.name}-${target.version}-${randomBytes(3).toString('hex')}`;
}

/** Migrations an install applied: from its state record, or from the journal of an interrupted one. */
function appliedBy(source: ReleaseRecord | JournalSummary): Migration[] {
  if ('begin' in source) {
    return source.begin.steps.flatMap((step) => (step.kind === 'migrate' && source.done.has(stepId(step)) ? [{ db: step.db, version: step.version }] : []));
  }
  return Object.entries(source.migrations).flatMap(([db, versions]) => versions.map((version) => ({ db, version })));
}

async function undoSteps(site: Site, installId: string, migrations: readonly Migration[]): Promise<Step[]> {
  const steps: Step[] = [];
  const newestFirst = [...migrations].sort((a, b) => compareMigrationVersions(b.version, a.version) || (a.db < b.db ? -1 : 1));
  for (const { db, version } of newestFirst) {
    const file = undoScriptPath(installDirOf(site, installId), db, version);
    if (!(await exists(file))) {
      throw new AirlockError(
        'FILE_MISSING',
        `migration ${version} of database ${db} has no undo script (U${version}__*.sql) in the release that applied it; roll back without --undo-migrations`,
      );
    }
    steps.push({ kind: 'undo', db, version, file });
  }
  return steps;
}

class Databases {
  private readonly open = new Map<string, MigrationTarget>();
  constructor(private readonly site: Site) {}

  async undo(step: Extract<Step, { kind: 'undo' }>): Promise<boolean> {
    let db = this.open.get(step.db);
    if (db === undefined) {
      const where = this.site.databases.get(step.db);
      if (where === undefined) throw new AirlockError('SITE_INVALID', `${this.site.file}: targets.databases has no ${step.db}`);
      db = await openMigrationTarget(step.db, where);
      this.open.set(step.db, db);
      await db.lock();
    }
    return db.undo(step.version, await readFile(step.file, 'utf8'), step.file);
  }

  async close(): Promise<void> {
    for (const db of this.open.values()) await db.close().catch(() => undefined);
  }
}

/**
 * Tags the undone install moved: a ref the previous release also had, now on another digest.
 * Tags only the undone release used are left alone (deleting is not undoing).
 */
function retagSteps(site: Site, target: Target): Step[] {
  if (site.images === undefined) return [];
  return target.images.flatMap((image) => {
    const before = target.previousImages.find((candidate) => candidate.ref === image.ref);
    if (before === undefined || before.digest === image.digest || before.mediaType === undefined) return [];
    return [{ kind: 'retag' as const, ref: before.ref, digest: before.digest, mediaType: before.mediaType }];
  });
}

function chooseTarget(site: Site, pending: JournalSummary | undefined, releases: readonly ReleaseRecord[]): Target {
  if (pending !== undefined) {
    const { begin } = pending;
    return {
      installId: begin.installId,
      ...begin.release,
      interrupted: true,
      to: begin.from && { name: begin.from.name, version: begin.from.version },
      migrations: appliedBy(pending),
      images: begin.steps.flatMap((step) => (step.kind === 'image' && pending.done.has(stepId(step)) ? [step] : [])),
      previousImages: releases.find((release) => release.installId === begin.from?.installId)?.images ?? [],
    };
  }
  const current = releases.at(-1);
  const previous = releases.at(-2);
  if (current === undefined) throw new AirlockError('NOTHING_TO_ROLL_BACK', `site ${site.site}: nothing is installed`);
  if (previous === undefined) {
    throw new AirlockError('NOTHING_TO_ROLL_BACK', `site ${site.site}: ${release(current)} is the only release installed here; there is nothing earlier to return to`);
  }
  return {
    installId: current.installId,
    name: current.name,
    version: current.version,
    interrupted: false,
    to: { name: previous.name, version: previous.version },
    migrations: appliedBy(current),
    images: current.images,
    previousImages: previous.images,
  };
}

async function showAndConfirm(
  output: Output,
  site: Site,
  target: Target,
  steps: { undo: readonly Step[]; retag: readonly Step[] },
  kept: readonly Migration[],
  request: RollbackRequest,
): Promise<void> {
  const { undo, retag } = steps;
  const backup = (await readBackup(installDirOf(site, target.installId))) ?? [];
  output.say(`Roll back ${target.interrupted ? 'the interrupted install of ' : ''}${release(target)} on site ${site.site} (${site.environment})`);
  output.say(`  returns to  ${target.to ? release(target.to) : 'the state before it (nothing installed)'}`);
  output.say(`  configs     ${backup.length} file(s) put back as they were before it`);
  for (const entry of backup) output.say(`    ${entry.existed ? '~' : '-'} ${entry.dest}`);
  if (undo.length > 0) output.say(`  migrations  undo, newest first: ${undo.map(stepId).join(', ')}`);
  if (kept.length > 0) output.say(`  migrations  stay applied (roll forward only): ${kept.map((m) => `${m.db} V${m.version}`).join(', ')}`);
  for (const step of retag) if (step.kind === 'retag') output.say(`  images      ${step.ref} back to ${step.digest}`);
  if (request.yes) return;
  if (!request.interactive) throw new AirlockError('ABORTED', 'no terminal to confirm the rollback on: pass --yes to roll back unattended');
  if (!(await askConfirm('Roll back?'))) throw new AirlockError('ABORTED', 'the rollback was not confirmed; nothing was changed');
}

export async function runRollback(output: Output, request: RollbackRequest): Promise<RollbackReport> {
  const site = await loadSite(request.siteFile);
  const paths = statePaths(site.stateDir);
  await ensureStateDir(site.stateDir);
  const lock = await acquireSiteLock(site.stateDir, 'rollback');
  if (lock.tookOver) output.warn(`airlock: took over a stale site lock of pid ${lock.tookOver.pid} (${lock.tookOver.since}): that run is gone`);
  const databases = new Databases(site);
  try {
    let pending = readJournal(paths.journal);
    if (pending?.outcome !== undefined) {
      await archiveJournal(site.stateDir, pending.begin.installId);
      pending = undefined;
    }
    if (pending?.begin.kind === 'rollback') return await runRollbackSteps(output, site, pending, databases, true);

    const resumingOperatorRollback = pending?.failure?.step === OPERATOR_ROLLBACK;
    const state = await readState(site.stateDir, site);
    const target = chooseTarget(site, pending, state.releases);
    const undo = request.undoMigrations ? await undoSteps(site, target.installId, target.migrations) : [];
    const kept = request.undoMigrations ? [] : target.migrations;
    const retags = retagSteps(site, target);
    if (!resumingOperatorRollback) await showAndConfirm(output, site, target, { undo, retag: retags }, kept, request);

    if (pending !== undefined) return await rollbackInterrupted(output, site, pending, target, [...undo, ...retags], kept, databases);

    const begin: Omit<Begin, 'at'> = {
      event: 'begin',
      kind: 'rollback',
      installId: runId(new Date(), target),
      release: { name: target.name, version: target.version },
      from: target.to && { installId: state.releases.at(-2)?.installId ?? '', ...target.to },
      target: { installId: target.installId, name: target.name, version: target.version },
      signers: [],
      user: currentUser(),
      host: hostname(),
      pid: process.pid,
      overrides: request.undoMigrations ? ['--undo-migrations'] : [],
      configs: [],
      // restore also takes the release off the state's stack (undoInstall).
      steps: [...undo, ...retags, { kind: 'restore', installId: target.installId }],
    };
    Journal.create(paths.journal, begin).close();
    const created = readJournal(paths.journal);
    if (created === undefined) throw new AirlockError('INTERNAL', `${paths.journal}: vanished after it was written`);
    return await runRollbackSteps(output, site, created, databases, false, kept);
  } finally {
    await databases.close();
    await lock.release();
  }
}

/**
 * An interrupted install is concluded in its own journal, as failed by the operator's
 * rollback: a kill during this is finished by `airlock rollback` (or the same install) again.
 */
async function rollbackInterrupted(
  output: Output,
  site: Site,
  pending: JournalSummary,
  target: Target,
  steps: readonly Step[],
  kept: readonly Migration[],
  databases: Databases,
): Promise<RollbackReport> {
  const journal = Journal.open(statePaths(site.stateDir).journal);
  let failure = pending.failure;
  if (failure?.step !== OPERATOR_ROLLBACK) {
    failure = { event: 'failed', at: new Date().toISOString(), step: OPERATOR_ROLLBACK, code: 'ABORTED', message: 'rolled back by the operator (airlock rollback)' };
    journal.append(failure);
  }
  const undone: Migration[] = [];
  // Undo scripts are idempotent through the history table (a version not applied is skipped), retagging is too.
  const retagged: Array<{ ref: string; digest: string }> = [];
  for (const step of steps) {
    if (step.kind === 'undo' && (await databases.undo(step))) undone.push({ db: step.db, version: step.version });
    if (step.kind === 'retag') {
      await retag(site, step, output);
      retagged.push({ ref: step.ref, digest: step.digest });
    }
  }
  const restored = await undoInstall(site, target.installId);
  await conclude({ site, begin: pending.begin, done: new Set(pending.done), resumed: true, journal }, failure);
  output.say(`  done  undid the interrupted install of ${release(target)}`);
  return {
    outcome: 'rolled-back',
    site: site.site,
    undone: { installId: target.installId, name: target.name, version: target.version, interrupted: true },
    to: target.to,
    configsRestored: restored,
    migrationsUndone: undone,
    migrationsKept: [...kept],
    imagesRetagged: retagged,
    resumed: false,
  };
}

async function retag(site: Site, step: Extract<Step, { kind: 'retag' }>, output: Output): Promise<void> {
  if (site.images === undefined) throw new AirlockError('SITE_INVALID', `${site.file}: targets.images is not set; cannot point ${step.ref} back`);
  await retagImage(site.images, step, output);
}

async function runRollbackSteps(
  output: Output,
  site: Site,
  summary: JournalSummary,
  databases: Databases,
  resumed: boolean,
  kept: readonly Migration[] = [],
): Promise<RollbackReport> {
  const { begin } = summary;
  const target = begin.target;
  if (target === undefined) throw new AirlockError('JOURNAL_INVALID', `${statePaths(site.stateDir).journal}: a rollback without a target`);
  if (resumed) output.say(`Resuming the interrupted rollback of ${release(target)} (started ${begin.at}; ${summary.done.size} of ${begin.steps.length} steps were done)`);
  const journal = Journal.open(statePaths(site.stateDir).journal);
  const restored: string[] = [];
  const undone: Migration[] = [];
  const retagged: Array<{ ref: string; digest: string }> = [];

  const run = async (step: Step): Promise<void> => {
    if (step.kind === 'undo') {
      if (await databases.undo(step)) undone.push({ db: step.db, version: step.version });
    } else if (step.kind === 'restore') {
      restored.push(...(await undoInstall(site, step.installId)));
    } else if (step.kind === 'retag') {
      await retag(site, step, output);
      retagged.push({ ref: step.ref, digest: step.digest });
    } else {
      throw new AirlockError('INTERNAL', `${stepId(step)}: not a rollback step`);
    }
  };
  const failure = await runSteps(journal, begin.steps, new Set(summary.done), run, (step) => output.say(`  done  ${stepId(step)}`));
  await appendAudit(site.stateDir, {
    action: 'rollback',
    outcome: failure === undefined ? 'succeeded' : 'failed',
    site: site.site,
    environment: site.environment,
    installId: begin.installId,
    release: { name: target.name, version: target.version },
    from: begin.from && { name: begin.from.name, version: begin.from.version },
    overrides: begin.overrides,
    ...(failure ? { code: failure.code, message: failure.message } : {}),
    ...(resumed ? { resumed: true } : {}),
  });
  journal.append({ event: 'end', outcome: failure === undefined ? 'succeeded' : 'failed' });
  journal.close();
  await archiveJournal(site.stateDir, begin.installId);
  if (failure !== undefined) {
    throw new AirlockError(
      failure.code as ErrorCode,
      `rollback of ${release(target)} stopped at ${failure.step}: ${failure.message}; run airlock rollback again once that is fixed`,
    );
  }
  return {
    outcome: 'rolled-back',
    site: site.site,
    undone: { installId: target.installId, name: target.name, version: target.version, interrupted: false },
    to: begin.from && { name: begin.from.name, version: begin.from.version },
    configsRestored: restored,
    migrationsUndone: undone,
    migrationsKept: [...kept],
    imagesRetagged: retagged,
    resumed,
  };
}

/**
 * The rollback plan: which install is undone (the installed release, or one a kill
 * interrupted), what the site returns to, and the steps, as data. Pure: the site's records
 * and which undo scripts exist come in as data.
 *
 * Step order, and why:
 *   undo       U<version>__ scripts, newest first (only with --undo-migrations): the schema goes
 *              back before the configs that expect it do
 *   retag      image tags the undone install moved point back at the previous release's images
 *   restore    the configs it touched, from its backup; it comes off the state's release stack
 *   conclude   (an interrupted install only) its own journal ends, with its receipt and audit line
 */
import { AirlockError } from '../base/errors.js';
import { compareMigrationVersions } from '../manifest/release-migrations.js';
import type { InstallBegin, JournalSummary, RollbackBegin } from './journal.js';
import { installStepId } from './install-steps.js';
import type { RollbackStep } from './rollback-steps.js';
import type { ReleaseRecord } from './state.js';

export type Migration = { db: string; version: string };
type Image = { ref: string; digest: string; mediaType?: string };
type ReleaseRef = { installId: string; name: string; version: string };

export interface RollbackTarget extends ReleaseRef {
  /** A kill interrupted it: it is undone from its journal, and its journal ended by this rollback. */
  interrupted: boolean;
  /** What the site is back on afterwards (null: nothing installed). */
  to: ReleaseRef | null;
  /** Migrations it applied. */
  migrations: Migration[];
  /** Images it pushed, and those of the release it returns to. */
  images: Image[];
  previousImages: Image[];
}

export interface RollbackPlan {
  target: RollbackTarget;
  /** Applied migrations that stay applied (roll forward only). */
  kept: Migration[];
  steps: RollbackStep[];
}

function release(record: { name: string; version: string }): string {
  return `${record.name} ${record.version}`;
}

/** The install to undo: the one the journal says was interrupted, else the installed release (which needs one before it). */
export function chooseTarget(site: string, interrupted: JournalSummary<InstallBegin> | undefined, releases: readonly ReleaseRecord[]): RollbackTarget {
  if (interrupted !== undefined) {
    const { begin, done } = interrupted;
    return {
      installId: begin.installId,
      ...begin.release,
      interrupted: true,
      to: begin.from,
      migrations: begin.steps.flatMap((step) => (step.kind === 'migrate' && done.has(installStepId(step)) ? [{ db: step.db, version: step.version }] : [])),
      images: begin.steps.flatMap((step) => (step.kind === 'image' && done.has(installStepId(step)) ? [step] : [])),
      previousImages: releases.find((record) => record.installId === begin.from?.installId)?.images ?? [],
    };
  }
  const current = releases.at(-1);
  const previous = releases.at(-2);
  if (current === undefined) throw new AirlockError('NOTHING_TO_ROLL_BACK', `site ${site}: nothing is installed`);
  if (previous === undefined) {
    throw new AirlockError('NOTHING_TO_ROLL_BACK', `site ${site}: ${release(current)} is the only release installed here; there is nothing earlier to return to`);
  }
  return {
    installId: current.installId,
    name: current.name,
    version: current.version,
    interrupted: false,
    to: { installId: previous.installId, name: previous.name, version: previous.version },
    migrations: Object.entries(current.migrations).flatMap(([db, versions]) => versions.map((version) => ({ db, version }))),
    images: current.images,
    previousImages: previous.images,
  };
}

export interface RollbackChoices {
  undoMigrations: boolean;
  /** The undo script kept for each of the target's migrations, by `<db>:<version>`, where one exists. */
  undoScripts: ReadonlyMap<string, string>;
  /** Whether the site has an image target to retag in. */
  images: boolean;
}

export function undoScriptKey(migration: Migration): string {
  return `${migration.db}:${migration.version}`;
}

export function planRollback(target: RollbackTarget, choices: RollbackChoices): RollbackPlan {
  const steps: RollbackStep[] = [];
  if (choices.undoMigrations) {
    const newestFirst = [...target.migrations].sort((a, b) => compareMigrationVersions(b.version, a.version) || (a.db < b.db ? -1 : 1));
    for (const migration of newestFirst) {
      const file = choices.undoScripts.get(undoScriptKey(migration));
      if (file === undefined) {
        throw new AirlockError(
          'FILE_MISSING',
          `migration ${migration.version} of database ${migration.db} has no undo script (U${migration.version}__*.sql) in the release that applied it; roll back without --undo-migrations`,
        );
      }
      steps.push({ kind: 'undo', ...migration, file });
    }
  }
  // Tags the undone install moved: a ref the previous release also had, now on another digest.
  // Tags only the undone release used are left alone (deleting is not undoing).
  if (choices.images) {
    for (const image of target.images) {
      const before = target.previousImages.find((candidate) => candidate.ref === image.ref);
      if (before === undefined || before.digest === image.digest || before.mediaType === undefined) continue;
      steps.push({ kind: 'retag', ref: before.ref, digest: before.digest, mediaType: before.mediaType });
    }
  }
  steps.push({ kind: 'restore', installId: target.installId });
  if (target.interrupted) steps.push({ kind: 'conclude', installId: target.installId });
  return { target, kept: choices.undoMigrations ? [] : target.migrations, steps };
}

export function rollbackBegin(plan: RollbackPlan, run: Pick<RollbackBegin, 'installId' | 'user' | 'host' | 'pid'>, undoMigrations: boolean): Omit<RollbackBegin, 'at'> {
  const { target } = plan;
  return {
    event: 'begin',
    kind: 'rollback',
    ...run,
    release: { name: target.name, version: target.version },
    to: target.to,
    target: { installId: target.installId, name: target.name, version: target.version, interrupted: target.interrupted },
    kept: plan.kept,
    overrides: undoMigrations ? ['--undo-migrations'] : [],
    steps: plan.steps,
  };
}

/**
 * `airlock rollback`, start to end: lock -> the site's records -> finish a rollback a kill
 * interrupted, or plan one (the installed release, or an install a kill interrupted) -> show
 * -> confirm -> journal begin -> execute. Configs are put back from the backup the install
 * made; image tags it moved point back at the previous release's; migrations roll forward
 * only, unless --undo-migrations runs the U<version>__ scripts the install kept, newest first,
 * each in its own transaction. Every step is journaled, undoing an interrupted install too: a
 * rollback killed at any point is finished by running it again.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { AirlockError } from '../base/errors.js';
import { ensureDir, exists } from '../fs/durable.js';
import { fsyncPathSync } from '../fs/fsync-path.js';
import { loadSite, type Site } from '../manifest/site.js';
import { askConfirm } from '../ui/prompts.js';
import type { Output } from '../ui/output.js';
import { Databases } from './databases.js';
import { markerPublisher } from './deployment-markers.js';
import { executeRollback, type RollbackReport } from './execute-rollback.js';
import { isInstallRun, Journal, type JournalSummary, type RollbackBegin } from './journal.js';
import { archiveJournal } from './journaled-run.js';
import { acquireSiteLock } from './lock.js';
import { chooseTarget, planRollback, rollbackBegin, undoScriptKey, type RollbackTarget } from './plan-rollback.js';
import { rollbackLines } from './plan-view.js';
import { SiteRecords } from './site-records.js';
import { ensureStateDir, statePaths } from './state.js';
import { readBackup } from './targets/files.js';
import { currentUser } from './who.js';

export type { RollbackReport } from './execute-rollback.js';

export interface RollbackRequest {
  siteFile: string;
  yes: boolean;
  undoMigrations: boolean;
  interactive: boolean;
}

function runId(now: Date, target: { name: string; version: string }): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-rollback-${target.name}-${target.version}-${randomBytes(3).toString('hex')}`;
}

/** The undo scripts the target's install kept, where they exist: the plan refuses --undo-migrations without one for every migration. */
async function undoScripts(site: Site, target: RollbackTarget): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const migration of target.migrations) {
    const file = statePaths(site.stateDir).undoScript(target.installId, migration.db, migration.version);
    if (await exists(file)) found.set(undoScriptKey(migration), file);
  }
  return found;
}

function reportEnded(output: Output, site: Site, ended: JournalSummary<RollbackBegin>): RollbackReport {
  const { begin } = ended;
  output.say(`The rollback of ${begin.target.name} ${begin.target.version} (started ${begin.at}) had already ended: ${ended.outcome}.`);
  return {
    outcome: 'rolled-back',
    site: site.site,
    undone: { installId: begin.target.installId, name: begin.target.name, version: begin.target.version, interrupted: begin.target.interrupted },
    to: begin.to && { name: begin.to.name, version: begin.to.version },
    configsRestored: [],
    migrationsUndone: [],
    migrationsKept: begin.kept,
    imagesRetagged: [],
    resumed: true,
  };
}

async function confirm(request: RollbackRequest): Promise<void> {
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
    const records = await SiteRecords.read(site);
    records.audit.observe(markerPublisher(site, output));
    let pending = records.journal;
    if (pending?.outcome !== undefined) {
      // A run killed after its end record, before it moved its journal away. A rollback that
      // had succeeded is done: running it again must not roll back one more release.
      const ended = pending;
      await archiveJournal(site.stateDir, ended.begin.installId);
      pending = undefined;
      if (!isInstallRun(ended) && ended.outcome === 'succeeded') return reportEnded(output, site, ended);
    }
    if (pending !== undefined && !isInstallRun(pending)) {
      const summary = pending;
      const { begin } = summary;
      output.say(`Resuming the interrupted rollback of ${begin.target.name} ${begin.target.version} (started ${begin.at}; ${summary.done.size} of ${begin.steps.length} steps were done)`);
      return await executeRollback({ site, records, databases, output, journal: Journal.open(paths.journal), summary, resumed: true });
    }

    const interrupted = pending;
    const target = chooseTarget(site.site, interrupted, records.state.releases);
    const plan = planRollback(target, {
      undoMigrations: request.undoMigrations,
      undoScripts: request.undoMigrations ? await undoScripts(site, target) : new Map(),
      images: site.images !== undefined,
    });
    for (const line of rollbackLines(plan, site, (await readBackup(paths.install(target.installId))) ?? [])) output.say(line);
    await confirm(request);

    // An interrupted install's journal moves into its directory, where the conclude step ends it;
    // the rollback's journal replaces it in one rename (Journal.create), so a kill leaves one or the other.
    if (interrupted !== undefined) {
      await ensureDir(paths.install(target.installId), 0o700);
      copyFileSync(paths.journal, paths.runJournal(target.installId));
      fsyncPathSync(paths.runJournal(target.installId));
      fsyncPathSync(paths.install(target.installId));
    }
    const begin = rollbackBegin(plan, { installId: runId(new Date(), target), user: currentUser(), host: hostname(), pid: process.pid }, request.undoMigrations);
    const journal = Journal.create(paths.journal, begin);
    const summary: JournalSummary<RollbackBegin> = { begin: { ...begin, at: new Date().toISOString() }, done: new Set() };
    return await executeRollback({ site, records, databases, output, journal, summary, resumed: false });
  } finally {
    await databases.close();
    await lock.release();
  }
}

/**
 * Carries out an install's journaled steps, or finishes one that a kill interrupted.
 * Every step is idempotent against the state the journal says it may have left behind:
 * a step recorded as started but not done is simply run again. A failure is recorded in
 * the journal before anything reacts to it, so the reaction (putting configs back, or
 * recording an unhealthy install) is itself finished by a re-run if it is interrupted.
 */
import { rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { AirlockError, type ErrorCode } from '../base/errors.js';
import type { Site, SiteVariables } from '../manifest/site.js';
import type { Output } from '../ui/output.js';
import { appendAudit } from './audit.js';
import { displayPath, renderTemplateConfig, type ConfigSource } from './configs.js';
import { ensureDir, writeFileDurable } from '../fs/durable.js';
import { fsyncPathSync } from '../fs/fsync-path.js';
import { raiseHighest, siteHighest } from './highest.js';
import type { Begin, Failure, Journal, Outcome } from './journal.js';
import { receiptFile, writeReceipt } from './receipt.js';
import { readState, statePaths, writeState, type ReleaseRecord } from './state.js';
import { runSteps } from './step-runner.js';
import { stepId, type Step } from './steps.js';
import {
  backupConfigs,
  chmodConfigFile,
  discardTempFile,
  readBackup,
  readConfigFile,
  removeConfigFile,
  restoreConfigs,
  writeConfigFile,
} from './targets/files.js';
import type { MigrationTarget } from './targets/migration-target.js';
import { hookEnvironment, runHook } from './targets/hooks.js';
import type { ImagePusher } from './targets/images.js';
import { renderMasked } from './templates.js';
import type { VerifiedBundle } from './verified-bundle.js';

export interface RunContext {
  site: Site;
  bundle: VerifiedBundle;
  variables: SiteVariables;
  sources: ReadonlyMap<string, ConfigSource>;
  databases: ReadonlyMap<string, MigrationTarget>;
  images?: ImagePusher;
  output: Output;
  journal: Journal;
  begin: Begin;
  /** Steps already done (by id), from the journal when resuming. */
  done: Set<string>;
  resumed: boolean;
}

export interface ApplyResult {
  outcome: Outcome;
  health: 'passed' | 'failed' | 'none';
  receipt: string;
}

export function installDirOf(site: Site, installId: string): string {
  return statePaths(site.stateDir).install(installId);
}

function describeStep(step: Step): string {
  switch (step.kind) {
    case 'prepare':
      return 'prepared the run';
    case 'hook':
      return `${step.phase === 'healthCheck' ? 'health check' : step.phase === 'preInstall' ? 'pre-install hook' : 'post-install hook'} ${step.name} passed`;
    case 'image':
      return `pushed ${step.ref}`;
    case 'migrate':
      return `migrated ${step.db} to V${step.version} (${step.description})`;
    case 'backup':
      return `backed up the ${step.dests.length} config path(s) this install touches`;
    case 'config':
      return `wrote ${step.dest}`;
    case 'remove':
      return `removed ${step.dest}`;
    case 'record':
      return 'recorded the release';
    case 'restore':
    case 'undo':
    case 'retag':
      return stepId(step);
  }
}

async function prepare(ctx: RunContext, dir: string): Promise<void> {
  for (const step of ctx.begin.steps) {
    if (step.kind === 'hook') await writeFileDurable(join(dir, step.path), await ctx.bundle.read(step.path), 0o755);
  }
  for (const config of ctx.begin.configs) {
    const source = ctx.sources.get(config.dest);
    if (source?.source === undefined) continue;
    await writeFileDurable(displayPath(dir, config.dest), renderMasked(source.source, ctx.variables, config.path), 0o600);
  }
  // Undo scripts travel with the install, so a later rollback does not need this bundle.
  for (const step of ctx.begin.steps) {
    if (step.kind !== 'migrate') continue;
    const undo = ctx.bundle.manifest.migrations[step.db]?.find((m) => m.version === step.version)?.undo;
    if (undo !== undefined) await writeFileDurable(undoScriptPath(dir, step.db, step.version), await ctx.bundle.read(undo), 0o600);
  }
}

export function undoScriptPath(installDir: string, db: string, version: string): string {
  return join(installDir, 'undo', db, `${version}.sql`);
}

async function writeConfig(ctx: RunContext, step: Extract<Step, { kind: 'config' }>): Promise<void> {
  const { configRoot } = ctx.site;
  await discardTempFile(configRoot, step.dest);
  const current = await readConfigFile(configRoot, step.dest);
  if (current !== undefined && current.sha256 === step.sha256) {
    if (current.mode !== step.mode) await chmodConfigFile(configRoot, step.dest, step.mode);
    return;
  }
  const source = ctx.sources.get(step.dest);
  if (source === undefined) throw new AirlockError('JOURNAL_INVALID', `${step.dest}: the journal names a config the bundle does not have`);
  if (source.source === undefined) {
    // A plain file streams from the bundle, checked against SHA256SUMS on the way: memory stays flat whatever its size.
    if (ctx.bundle.checksum(source.entry.path) !== step.sha256) throw new AirlockError('JOURNAL_INVALID', `${source.entry.path}: differs from the file this install began with`);
    await writeConfigFile(configRoot, step.dest, ctx.bundle.stream(source.entry.path), step.mode);
    return;
  }
  const rendered = renderTemplateConfig({ ...source, source: source.source }, ctx.variables);
  if (rendered.desired.sha256 !== step.sha256) {
    throw new AirlockError(
      'JOURNAL_INVALID',
      `${step.dest}: renders differently than when this install began (site variables changed?); restore them, or run airlock rollback`,
    );
  }
  await writeConfigFile(configRoot, step.dest, rendered.content, step.mode);
}

async function migrate(ctx: RunContext, step: Extract<Step, { kind: 'migrate' }>): Promise<void> {
  const target = ctx.databases.get(step.db);
  if (target === undefined) throw new AirlockError('SITE_INVALID', `${ctx.site.file}: targets.databases has no ${step.db}`);
  if (ctx.bundle.checksum(step.path) !== step.checksum) {
    throw new AirlockError('JOURNAL_INVALID', `${step.path}: differs from the file this install began with`);
  }
  const sql = (await ctx.bundle.read(step.path)).toString('utf8');
  const applied = await target.apply(step, sql, ctx.begin.release.version);
  if (!applied) ctx.output.debug(`${step.path}: already applied to ${step.db} (resumed run)`);
}

async function execute(ctx: RunContext, step: Step, dir: string): Promise<void> {
  switch (step.kind) {
    case 'prepare':
      return prepare(ctx, dir);
    case 'hook':
      return runHook(
        {
          id: stepId(step),
          script: join(dir, step.path),
          timeoutSeconds: step.timeoutSeconds,
          cwd: dir,
          log: join(dir, 'install.log'),
          env: hookEnvironment({ ...ctx.begin.release, environment: ctx.site.environment, site: ctx.site.site, configRoot: ctx.site.configRoot }),
        },
        step.phase === 'healthCheck' ? 'HEALTH_CHECK_FAILED' : 'HOOK_FAILED',
      );
    case 'image':
      if (ctx.images === undefined) throw new AirlockError('SITE_INVALID', `${ctx.site.file}: the bundle carries images but targets.images is not set`);
      return ctx.images.push(step);
    case 'migrate':
      return migrate(ctx, step);
    case 'backup':
      await backupConfigs(ctx.site.configRoot, step.dests, dir);
      return;
    case 'config':
      return writeConfig(ctx, step);
    case 'remove':
      return removeConfigFile(ctx.site.configRoot, step.dest);
    case 'record':
      return record(ctx, ctx.begin.steps.some((s) => s.kind === 'hook' && s.phase === 'healthCheck') ? 'passed' : 'none');
    case 'restore':
    case 'undo':
    case 'retag':
      throw new AirlockError('INTERNAL', `${stepId(step)}: not an install step`);
  }
}

/** What recording and concluding a run needs: no bundle, so `airlock rollback` can conclude an interrupted install. */
export type RunRecord = Pick<RunContext, 'site' | 'begin' | 'done' | 'resumed' | 'journal'>;

/** Pushes this install onto the state's release stack (once, however often it is re-run). */
async function record(ctx: RunRecord, health: ReleaseRecord['health']): Promise<void> {
  const { begin, site } = ctx;
  const state = await readState(site.stateDir, site);
  if (state.releases.at(-1)?.installId === begin.installId) return;
  const migrations: Record<string, string[]> = {};
  for (const step of begin.steps) if (step.kind === 'migrate') (migrations[step.db] ??= []).push(step.version);
  state.releases.push({
    installId: begin.installId,
    name: begin.release.name,
    version: begin.release.version,
    bundleDigest: begin.bundleDigest ?? '',
    bundleFile: begin.bundleFile ?? '',
    signers: begin.signers,
    installedAt: new Date().toISOString(),
    installedBy: begin.user,
    host: hostname(),
    health,
    configs: Object.fromEntries(
      begin.configs.map((c) => [c.dest, { sha256: c.sha256, mode: c.mode, template: c.template, installId: begin.installId }]),
    ),
    images: begin.steps.flatMap((s) => (s.kind === 'image' ? [{ ref: s.ref, digest: s.digest, ...(s.mediaType ? { mediaType: s.mediaType } : {}) }] : [])),
    migrations,
    receipt: basename(receiptFile(site.stateDir, site.site, begin.installId)),
  });
  state.highest = raiseHighest(site.stateDir, state, begin.release);
  await writeState(site.stateDir, state);
}

/**
 * Undoes an install's effect on configs and state: puts back the files it touched (a no-op
 * if its backup never completed: then nothing was touched) and takes it off the release
 * stack if it got there. Idempotent.
 */
export async function undoInstall(site: Site, installId: string): Promise<string[]> {
  const dir = installDirOf(site, installId);
  const backup = await readBackup(dir);
  const restored = backup === undefined ? [] : await restoreConfigs(site.configRoot, dir, backup);
  const state = await readState(site.stateDir, site);
  if (state.releases.at(-1)?.installId === installId) {
    // Taking a release off the stack never lowers the mark (a state file without one gets it now).
    const highest = siteHighest(site.stateDir, state);
    if (highest !== undefined) state.highest = highest;
    state.releases.pop();
    await writeState(site.stateDir, state);
  }
  return restored;
}

/** Ends the journal: receipt, audit line, end record, then the journal moves into the install's directory. */
async function finish(ctx: RunRecord, outcome: Outcome, health: ApplyResult['health'], failure?: Failure): Promise<ApplyResult> {
  const { begin, site } = ctx;
  const receipt = await writeReceipt(site.stateDir, {
    begin,
    site: site.site,
    environment: site.environment,
    outcome,
    health,
    done: ctx.done,
    resumed: ctx.resumed,
    failure: failure && { step: failure.step, code: failure.code, message: failure.message },
  });
  await appendAudit(site.stateDir, {
    action: 'install',
    outcome,
    site: site.site,
    environment: site.environment,
    installId: begin.installId,
    release: begin.release,
    from: begin.from && { name: begin.from.name, version: begin.from.version },
    bundleFile: begin.bundleFile,
    bundleDigest: begin.bundleDigest,
    signers: begin.signers,
    overrides: begin.overrides,
    ...(failure ? { code: failure.code, message: failure.message } : {}),
    ...(ctx.resumed ? { resumed: true } : {}),
  });
  ctx.journal.append({ event: 'end', outcome });
  ctx.journal.close();
  await archiveJournal(site.stateDir, begin.installId);
  return { outcome, health, receipt };
}

/** Moves a finished journal out of the way, into its run's directory; the next run starts a fresh one. */
export async function archiveJournal(stateDir: string, installId: string): Promise<void> {
  const paths = statePaths(stateDir);
  await ensureDir(paths.install(installId), 0o700);
  await rename(paths.journal, join(paths.install(installId), 'journal.jsonl'));
  fsyncPathSync(stateDir);
}

/** The failure step recorded when the operator rolls back an interrupted install (airlock rollback). */
export const OPERATOR_ROLLBACK = 'operator-rollback';

/**
 * Concludes a run after a failed step. A failure before the configs leaves them as they were;
 * a failure while writing them puts them back; a failed post-install hook or health check gets
 * the release's reaction (site override first): `rollback` puts the configs back, `stop`
 * records the release as installed but unhealthy. An operator's rollback of an interrupted
 * install undoes it. Returns the error to report, saying what was done about the failure.
 */
export async function conclude(ctx: RunRecord, failure: Failure): Promise<{ result: ApplyResult; error: AirlockError }> {
  const step = ctx.begin.steps.find((s) => stepId(s) === failure.step);
  const afterConfigs = step?.kind === 'hook' && step.phase !== 'preInstall';
  const reaction = ctx.begin.onHealthCheckFailure ?? 'rollback';
  const back = ctx.begin.from ? `${ctx.begin.from.name} ${ctx.begin.from.version}` : 'the state before this install';
  let outcome: Outcome = 'failed';
  let what: string;
  if (failure.step === OPERATOR_ROLLBACK) {
    const restored = await undoInstall(ctx.site, ctx.begin.installId);
    outcome = 'rolled-back';
    what = `; configs restored to ${back} (${restored.length} file(s) put back)`;
  } else if (afterConfigs && reaction === 'stop') {
    if (!ctx.done.has('record')) {
      await record(ctx, step.phase === 'healthCheck' ? 'failed' : 'none');
      ctx.done.add('record');
    }
    outcome = 'unhealthy';
    what = `; the release stays installed as asked (onHealthCheckFailure: stop): airlock rollback returns to ${back}`;
  } else if (ctx.done.has('backup')) {
    const restored = await undoInstall(ctx.site, ctx.begin.installId);
    outcome = afterConfigs ? 'rolled-back' : 'failed';
    what = `; configs restored to ${back} (${restored.length} file(s) put back)`;
  } else {
    what = '; no config file was changed';
  }
  const health = step?.kind === 'hook' && step.phase === 'healthCheck' ? 'failed' : 'none';
  const result = await finish(ctx, outcome, health, failure);
  return { result, error: new AirlockError(failure.code as ErrorCode, `${failure.message}${what}`) };
}

export async function applyInstall(ctx: RunContext, priorFailure?: Failure): Promise<ApplyResult> {
  const dir = installDirOf(ctx.site, ctx.begin.installId);
  const failure =
    priorFailure ??
    (await runSteps(ctx.journal, ctx.begin.steps, ctx.done, (step) => execute(ctx, step, dir), (step) => ctx.output.say(`  done  ${describeStep(step)}`)));
  if (failure === undefined) {
    const health = ctx.begin.steps.some((s) => s.kind === 'hook' && s.phase === 'healthCheck') ? 'passed' : 'none';
    return finish(ctx, 'succeeded', health);
  }
  throw (await conclude(ctx, failure)).error;
}

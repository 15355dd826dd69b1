/**
 * Carries out an install's journaled steps, or finishes one that a kill interrupted. Every
 * step is idempotent against the state the journal says it may have left behind: a step
 * recorded as started but not done is simply run again. A failure is recorded in the journal
 * before anything reacts to it, so the reaction (putting configs back, or recording an
 * unhealthy install) is itself finished by a re-run if it is interrupted.
 */
import { join } from 'node:path';
import { AirlockError } from '../base/errors.js';
import { writeFileDurable } from '../fs/durable.js';
import { DurableBatch } from '../fs/durable-batch.js';
import type { Site, SiteVariables } from '../manifest/site.js';
import type { Output } from '../ui/output.js';
import { itemProgress } from '../ui/progress.js';
import type { VerifiedBundle } from '../verify/verified-bundle.js';
import { gateSummary } from '../telemetry/gate-result.js';
import { displayPath, renderTemplateConfig, type ConfigSource } from './configs.js';
import type { Databases } from './databases.js';
import { readGateResults, runGate } from './health-gates.js';
import { installStepId, isHealthCheck, type ConfigFileStep, type InstallStep } from './install-steps.js';
import type { Failure, InstallBegin, Journal, Outcome } from './journal.js';
import { endRun, runSteps, type Verb } from './journaled-run.js';
import { writeReceipt } from './receipt.js';
import { recordRelease, undoInstall } from './release-stack.js';
import type { SiteRecords } from './site-records.js';
import { statePaths } from './state.js';
import { backupConfigs, chmodConfigFile, digestConfigFile, discardTempFile, removeConfigFile } from './targets/files.js';
import { hookEnvironment, runHook } from './targets/hooks.js';
import { siteImageTarget, type ImagePusher } from './targets/images.js';
import { receiptHoldings } from './holdings.js';
import type { ImageTarget } from '../images/push/types.js';
import { renderMasked } from './templates.js';

export interface InstallRun {
  site: Site;
  records: SiteRecords;
  bundle: VerifiedBundle;
  variables: SiteVariables;
  sources: ReadonlyMap<string, ConfigSource>;
  databases: Databases;
  images?: ImagePusher;
  output: Output;
  journal: Journal;
  begin: InstallBegin;
  /** Steps already done (by id), from the journal when resuming. */
  done: Set<string>;
  resumed: boolean;
}

export type Health = 'passed' | 'failed' | 'none';

export interface ApplyResult {
  outcome: Outcome;
  health: Health;
  receipt: string;
}

function describeStep(step: InstallStep): string {
  switch (step.kind) {
    case 'prepare':
      return 'prepared the run';
    case 'hook':
      return `${step.phase === 'healthCheck' ? 'health check' : step.phase === 'preInstall' ? 'pre-install hook' : 'post-install hook'} ${step.name} passed`;
    case 'gate':
      return `health gate ${step.gate.name} passed`;
    case 'image':
      return `pushed ${step.ref} -> ${step.target}`;
    case 'migrate':
      return `migrated ${step.db} to V${step.version} (${step.description})`;
    case 'backup':
      return `backed up the ${step.dests.length} config path(s) this install touches`;
    case 'config':
      return `wrote ${step.dest}`;
    case 'configs':
      return step.files.length === 1 ? `wrote ${step.files[0]!.dest}` : `wrote ${step.files.length} config files (batch ${step.batch})`;
    case 'remove':
      return `removed ${step.dest}`;
    case 'record':
      return 'recorded the release';
  }
}

async function prepare(run: InstallRun, dir: string): Promise<void> {
  for (const step of run.begin.steps) {
    if (step.kind === 'hook') await writeFileDurable(join(dir, step.path), await run.bundle.read(step.path), 0o755);
  }
  for (const config of run.begin.configs) {
    const source = run.sources.get(config.dest);
    if (source?.source === undefined) continue;
    await writeFileDurable(displayPath(dir, config.dest), renderMasked(source.source, run.variables, config.path), 0o600);
  }
  // Undo scripts travel with the install, so a later rollback does not need this bundle.
  for (const step of run.begin.steps) {
    if (step.kind !== 'migrate') continue;
    const undo = run.bundle.manifest.migrations[step.db]?.find((m) => m.version === step.version)?.undo;
    if (undo !== undefined) await writeFileDurable(statePaths(run.site.stateDir).undoScript(run.begin.installId, step.db, step.version), await run.bundle.read(undo), 0o600);
  }
}

/** A plain file up to this size is read whole and written in a batch; a larger one streams. */
const STREAM_FROM_BYTES = 1024 * 1024;

/**
 * Writes a batch of config files, skipping those already right (a resumed batch). Each file's
 * content is checked against what the install began with before it is renamed into place.
 */
async function writeConfigs(run: InstallRun, files: readonly ConfigFileStep[], label: string): Promise<void> {
  const { configRoot } = run.site;
  const batch = new DurableBatch();
  const progress = itemProgress(run.output, label, files.length);
  try {
    for (const file of files) {
      const current = await digestConfigFile(configRoot, file.dest);
      if (current !== undefined && current.sha256 === file.sha256) {
        // A file written gets its temp file overwritten; one skipped must not leave a killed run's behind.
        await discardTempFile(configRoot, file.dest);
        if (current.mode !== file.mode) await chmodConfigFile(configRoot, file.dest, file.mode);
      } else {
        await batch.add({ path: join(configRoot, file.dest), data: await configContent(run, file), mode: file.mode, crashLabel: file.dest });
      }
      progress.add(1);
    }
    await batch.flush();
  } finally {
    progress.stop();
  }
}

async function configContent(run: InstallRun, file: ConfigFileStep): Promise<Buffer | (() => AsyncIterable<Buffer>)> {
  const source = run.sources.get(file.dest);
  if (source === undefined) throw new AirlockError('JOURNAL_INVALID', `${file.dest}: the journal names a config the bundle does not have`);
  if (source.source === undefined) {
    if (run.bundle.checksum(source.entry.path) !== file.sha256) throw new AirlockError('JOURNAL_INVALID', `${source.entry.path}: differs from the file this install began with`);
    // Checked against SHA256SUMS as it is read; a large file streams, so memory stays flat whatever its size.
    if (run.bundle.reader.entry(source.entry.path).size > STREAM_FROM_BYTES) return () => run.bundle.stream(source.entry.path);
    return run.bundle.readSync(source.entry.path);
  }
  const rendered = renderTemplateConfig({ ...source, source: source.source }, run.variables);
  if (rendered.desired.sha256 !== file.sha256) {
    throw new AirlockError(
      'JOURNAL_INVALID',
      `${file.dest}: renders differently than when this install began (site variables changed?); restore them, or run airlock rollback`,
    );
  }
  return rendered.content;
}

async function migrate(run: InstallRun, step: Extract<InstallStep, { kind: 'migrate' }>): Promise<void> {
  if (run.bundle.checksum(step.path) !== step.checksum) {
    throw new AirlockError('JOURNAL_INVALID', `${step.path}: differs from the file this install began with`);
  }
  const target = await run.databases.get(step.db, { lock: true });
  const sql = (await run.bundle.read(step.path)).toString('utf8');
  const applied = await target.apply(step, sql, run.begin.release.version);
  if (!applied) run.output.debug(`${step.path}: already applied to ${step.db} (resumed run)`);
}

function hasHealthChecks(begin: InstallBegin): boolean {
  return begin.steps.some(isHealthCheck);
}

function installVerb(run: InstallRun): Verb<InstallStep> {
  const dir = statePaths(run.site.stateDir).install(run.begin.installId);
  const configBatches = run.begin.steps.filter((step) => step.kind === 'configs').length;
  return {
    stepId: installStepId,
    describe: describeStep,
    async execute(step) {
      switch (step.kind) {
        case 'prepare':
          return prepare(run, dir);
        case 'hook':
          return runHook(
            {
              id: installStepId(step),
              script: join(dir, step.path),
              timeoutSeconds: step.timeoutSeconds,
              cwd: dir,
              log: join(dir, 'install.log'),
              env: hookEnvironment({ ...run.begin.release, environment: run.site.environment, site: run.site.site, configRoot: run.site.configRoot }),
            },
            step.phase === 'healthCheck' ? 'HEALTH_CHECK_FAILED' : 'HOOK_FAILED',
          );
        case 'gate':
          return runGate(run.site, run.begin.installId, step, run.output);
        case 'image':
          if (run.images === undefined) throw new AirlockError('SITE_INVALID', `${run.site.file}: the bundle carries images but targets.images is not set`);
          return run.images.push(step);
        case 'migrate':
          return migrate(run, step);
        case 'backup':
          await backupConfigs(run.site.configRoot, step.dests, dir);
          return;
        case 'config':
          return writeConfigs(run, [step], 'writing configs');
        case 'configs':
          return writeConfigs(run, step.files, `writing configs (batch ${step.batch} of ${configBatches})`);
        case 'remove':
          return removeConfigFile(run.site.configRoot, step.dest);
        case 'record':
          return recordRelease(run.records, run.begin, hasHealthChecks(run.begin) ? 'passed' : 'none');
      }
    },
  };
}

export async function applyInstall(run: InstallRun, priorFailure?: Failure): Promise<ApplyResult> {
  let failure = priorFailure;
  try {
    failure ??= await runSteps(run.journal, run.begin.steps, run.done, installVerb(run), (line) => run.output.say(line));
  } finally {
    await run.images?.close();
  }
  if (failure === undefined) return finish(run, 'succeeded', hasHealthChecks(run.begin) ? 'passed' : 'none');
  throw await conclude(run, failure);
}

/** How an install ended, where the operator and the connected side look: the receipt and the audit line. */
export async function recordOutcome(
  records: SiteRecords,
  begin: InstallBegin,
  facts: { outcome: Outcome; health: Health; done: ReadonlySet<string>; resumed: boolean; failure?: Failure },
  survey?: { target: () => ImageTarget | undefined; output: Output },
): Promise<string> {
  const { site } = records;
  const failure = facts.failure && { step: facts.failure.step, code: facts.failure.code, message: facts.failure.message };
  const gates = await readGateResults(site.stateDir, begin);
  const held = await receiptHoldings(site, records.state, survey);
  const receipt = await writeReceipt(site.stateDir, { begin, site: site.site, environment: site.environment, ...facts, failure, gates, ...held });
  await records.audit.append({
    action: 'install',
    outcome: facts.outcome,
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
    ...(facts.resumed ? { resumed: true } : {}),
    startedAt: begin.at,
    ...(gates.length > 0 ? { gates: gates.map(gateSummary) } : {}),
  });
  return receipt;
}

/** Ends the run: receipt, audit line, end record, then the journal moves into the install's directory. */
async function finish(run: InstallRun, outcome: Outcome, health: Health, failure?: Failure): Promise<ApplyResult> {
  // Only a recorded release changes what the site holds for good; a failed run's target may be the fault (gone, silent).
  const recorded = outcome === 'succeeded' || outcome === 'unhealthy';
  const target = () => run.images?.target ?? siteImageTarget(run.site);
  const survey = recorded ? { target, output: run.output } : undefined;
  const receipt = await recordOutcome(run.records, run.begin, { outcome, health, done: run.done, resumed: run.resumed, failure }, survey);
  await endRun(run.site.stateDir, run.journal, run.begin.installId, outcome);
  return { outcome, health, receipt };
}

/**
 * Concludes a run after a failed step. A failure before the configs leaves them as they were;
 * a failure while writing them puts them back; a failed post-install hook, health check or gate gets
 * the release's reaction (site override first): `rollback` puts the configs back, `stop`
 * records the release as installed but unhealthy. Returns the error to report, saying what
 * was done about the failure.
 */
async function conclude(run: InstallRun, failure: Failure): Promise<AirlockError> {
  const { begin } = run;
  const step = begin.steps.find((s) => installStepId(s) === failure.step);
  const afterConfigs = (step?.kind === 'hook' && step.phase !== 'preInstall') || step?.kind === 'gate';
  const back = begin.from ? `${begin.from.name} ${begin.from.version}` : 'the state before this install';
  let outcome: Outcome = 'failed';
  let what: string;
  if (afterConfigs && begin.onHealthCheckFailure === 'stop') {
    if (!run.done.has('record')) {
      await recordRelease(run.records, begin, isHealthCheck(step) ? 'failed' : 'none');
      run.done.add('record');
    }
    outcome = 'unhealthy';
    what = `; the release stays installed as asked (onHealthCheckFailure: stop): airlock rollback returns to ${back}`;
  } else if (run.done.has('backup')) {
    const restored = await undoInstall(run.records, begin.installId, run.output);
    outcome = afterConfigs ? 'rolled-back' : 'failed';
    what = `; configs restored to ${back} (${restored.length} file(s) put back)`;
  } else {
    what = '; no config file was changed';
  }
  await finish(run, outcome, isHealthCheck(step) ? 'failed' : 'none', failure);
  return new AirlockError(failure.code, `${failure.message}${what}`);
}

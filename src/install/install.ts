/**
 * `airlock install`, start to end, in the order that asks the least of the bundle before it
 * may be refused:
 *
 *   lock -> the site's records (state, journal, audit), read once
 *   -> the signed listing: one scan, one signature check, airlock.json, expiry
 *   -> an unfinished run: this bundle resumes it, any other is refused
 *   -> target site and environment, version and downgrade -> "already installed": nothing to do
 *   -> what the release needs of the site: image target, databases (histories, pending migrations),
 *      and for a delta every blob it leaves out, found in the image target (DELTA_BASE_MISSING)
 *   -> only now the payload, every byte hashed -> site variables (a prompt, at a terminal)
 *   -> the plan (pure) -> shown -> confirmed -> journal begin -> apply -> record
 *
 * Every refusal that needs no payload byte comes before any prompt and before the payload is
 * hashed, and every refusal is audited. Resuming executes the journal's recorded plan, not a new one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { ensureDir } from '../fs/durable.js';
import { loadSite, type Site } from '../manifest/site.js';
import { loadTrustStore } from '../trust/store.js';
import type { Output } from '../ui/output.js';
import { askConfirm } from '../ui/prompts.js';
import { loadVerified, type BundleInput, type LoadedBundle } from '../verify/load-verified.js';
import type { BundleReader } from '../bundle/reader.js';
import type { VerificationReport } from '../verify/report.js';
import type { SignedRelease, VerifiedBundle } from '../verify/verified-bundle.js';
import type { BundleConfigFile } from '../manifest/bundle-manifest.js';
import { AuditLog, type AuditInput, type AuditObserver } from './audit.js';
import { checkTarget, checkVersion } from './checks.js';
import { configEntries, loadConfigSources, templateNeeds, type ConfigSource } from './configs.js';
import { checkDeltaBase, type HeldBase } from './delta-base.js';
import { Databases } from './databases.js';
import { markerPublisher } from './deployment-markers.js';
import { applyInstall, type ApplyResult, type InstallRun } from './execute-install.js';
import { gatePrometheus, withBaselines } from './health-gates.js';
import { installStepId } from './install-steps.js';
import { isInstallRun, Journal, type InstallBegin, type JournalSummary } from './journal.js';
import { archiveJournal } from './journaled-run.js';
import { acquireSiteLock, type SiteLock } from './lock.js';
import { installBegin, planInstall } from './plan-install.js';
import { planJson, planLines, type PlanViewOptions } from './plan-view.js';
import { planDatabases, surveyConfigs } from './planning-inputs.js';
import { receiptFile } from './receipt.js';
import { SiteRecords } from './site-records.js';
import { currentRelease, ensureStateDir, statePaths } from './state.js';
import { openImagePusher, siteImages, type SiteImages } from './targets/images.js';
import { completeVariables } from './variables.js';
import { currentUser } from './who.js';

export interface InstallRequest {
  /** A bundle file or release media (or the bytes of one, already located). */
  bundle: BundleInput;
  siteFile: string;
  yes: boolean;
  planOnly: boolean;
  allowDowngrade: boolean;
  reinstall: boolean;
  /** Install a bundle past its signed expiry (recorded as an override). */
  allowExpired: boolean;
  /** A delta's omitted blobs are re-hashed where the site holds them, not only looked up (--verify-base). */
  verifyBase?: boolean;
  /** A registry overriding the site's image target (--registry, --insecure-registry). */
  registry?: { host: string; insecure: boolean };
  /** How the text plan is shown (--diff); --json output always carries the whole plan. */
  planView?: PlanViewOptions;
  /** A person is at a terminal (prompts possible). */
  interactive: boolean;
  now: Date;
}

export interface ResumeReport {
  installId: string;
  startedAt: string;
  startedBy: string;
  done: string[];
  interrupted?: string;
  failed?: { step: string; code: string };
  remaining: string[];
}

export interface InstallReport {
  /** `unchanged`: this very bundle is the site's installed release, and nothing was done. */
  outcome: ApplyResult['outcome'] | 'planned' | 'unchanged';
  release: { name: string; version: string };
  site: string;
  installId?: string;
  plan?: ReturnType<typeof planJson>;
  resumed?: ResumeReport;
  health?: ApplyResult['health'];
  receipt?: string;
}

/** What one run holds open, and what its audit line would say if it were refused now. */
class Attempt {
  lock?: SiteLock;
  records?: SiteRecords;
  bundle?: LoadedBundle<BundleReader>;
  readonly databases: Databases;
  /** Once the journal has begun, failures are the journal's to record, not refusals. */
  begun = false;
  audit: Partial<AuditInput>;

  constructor(
    private readonly site: Site,
    private readonly request: InstallRequest,
    /** Publishes the deployment markers with each audit line (docs/TELEMETRY.md). */
    readonly markers?: AuditObserver,
  ) {
    this.databases = new Databases(site);
    this.audit = { bundleFile: typeof request.bundle === 'string' ? request.bundle : request.bundle.name };
  }

  /** What the verification vouched for so far: an expired bundle's release is named, a forged one's is not. */
  saw(report: VerificationReport): void {
    if (report.checksumsDigest !== undefined) this.audit.bundleDigest = report.checksumsDigest;
    if (report.manifest) this.audit.release = { name: report.manifest.name, version: report.manifest.version };
  }

  signed(release: SignedRelease): void {
    this.audit = { ...this.audit, bundleDigest: release.digest, signers: [...release.signers], overrides: [...release.overrides] };
  }

  /** Refused before the journal began: nothing on the site changed; the audit log says who tried what. */
  async refused(error: unknown): Promise<void> {
    if (this.request.planOnly || this.begun) return;
    const { code, message } = isAirlockError(error) ? error : new AirlockError('INTERNAL', error instanceof Error ? error.message : String(error));
    await ensureStateDir(this.site.stateDir);
    const audit = this.records?.audit ?? AuditLog.read(this.site.stateDir).observe(this.markers);
    await audit.append({
      ...this.audit,
      startedAt: this.request.now.toISOString(),
      action: 'install',
      outcome: code === 'ABORTED' ? 'aborted' : 'refused',
      site: this.site.site,
      environment: this.site.environment,
      code,
      message,
    });
  }

  async close(): Promise<void> {
    await this.databases.close();
    await this.bundle?.close().catch(() => undefined);
    await this.lock?.release();
  }
}

function newInstallId(name: string, version: string, now: Date): string {
  const time = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${name}-${version}-${randomBytes(3).toString('hex')}`;
}

export async function runInstall(output: Output, request: InstallRequest): Promise<InstallReport> {
  const site = await loadSite(request.siteFile);
  const attempt = new Attempt(site, request, markerPublisher(site, output));
  try {
    return await install(output, request, site, attempt);
  } catch (error) {
    // The refusal is what the operator must see, even if its audit line cannot be written.
    await attempt.refused(error).catch(() => undefined);
    throw error;
  } finally {
    await attempt.close();
  }
}

async function install(output: Output, request: InstallRequest, site: Site, attempt: Attempt): Promise<InstallReport> {
  if (!request.planOnly) {
    await ensureStateDir(site.stateDir);
    attempt.lock = await acquireSiteLock(site.stateDir, `install ${attempt.audit.bundleFile}`);
    if (attempt.lock.tookOver) output.warn(`airlock: took over a stale site lock of pid ${attempt.lock.tookOver.pid} (${attempt.lock.tookOver.since}): that run is gone`);
  }
  const trust = await loadTrustStore(site.trustDir);
  const records = await SiteRecords.read(site);
  records.audit.observe(attempt.markers);
  attempt.records = records;

  const loaded = (attempt.bundle = await loadVerified(request.bundle, {
    checks: 'listing',
    trust,
    now: request.now,
    allowExpired: request.allowExpired,
    unreadable: 'throw',
  }));
  attempt.saw(loaded.report);
  const release = loaded.release();
  attempt.signed(release);
  for (const problem of release.waived) output.warn(`airlock: WARNING: ${problem.message}; ${release.overrides.join(' ')} overrides this (an install records it in the audit log and its receipt)`);

  let pending = records.journal;
  if (pending?.outcome !== undefined && !request.planOnly) {
    // The run ended but was killed before it could move its journal away (or say so).
    const ended = pending;
    await archiveJournal(site.stateDir, ended.begin.installId);
    records.journal = pending = undefined;
    if (isInstallRun(ended) && ended.begin.bundleDigest === release.digest) return reportEnded(output, site, ended);
  }
  if (pending !== undefined && pending.outcome === undefined) {
    const { begin } = pending;
    if (!isInstallRun(pending) || pending.begin.bundleDigest !== release.digest) {
      throw new AirlockError(
        'INSTALL_INTERRUPTED',
        `${statePaths(site.stateDir).journal}: the ${begin.kind} of ${begin.release.name} ${begin.release.version} started ${begin.at} was interrupted; ` +
          (isInstallRun(pending) ? `run the same install again (${pending.begin.bundleFile}) to finish it, or airlock rollback to undo it` : 'run airlock rollback again to finish it'),
      );
    }
    return resume(output, request, { site, attempt, records, loaded }, pending);
  }

  checkTarget(release.manifest, site);
  const current = currentRelease(records.state);
  const verdict = checkVersion(release, { current, highest: records.highest() }, request);
  if (verdict.action === 'none') return { outcome: 'unchanged', release: { name: release.manifest.name, version: release.manifest.version }, site: site.site, installId: current?.installId };
  const overrides = [...release.overrides, ...verdict.overrides];
  attempt.audit.overrides = overrides;
  attempt.audit.from = current ? { name: current.name, version: current.version } : null;

  const images = siteImages(site, release.manifest, request.registry);
  const prometheus = gatePrometheus(site, release.manifest);
  const configs = configEntries(release.manifest, site.environment);
  const databases = await planDatabases(site, release, attempt.databases, { lock: !request.planOnly });
  const held = await checkDeltaBase({ release, reader: loaded.reader, images, state: records.state, verifyBase: request.verifyBase === true, output });

  const bundle = await loaded.verifyPayload();
  const run = await runInputs(output, request, { site, records, attempt, bundle, images, held, configs });
  const plan = planInstall({
    release: bundle,
    site,
    from: current ? { installId: current.installId, name: current.name, version: current.version } : null,
    overrides,
    ...(images ? { images } : {}),
    configs: await surveyConfigs(site, current, bundle, run.sources, run.variables),
    databases,
  });
  for (const line of planLines(plan, site.configRoot, request.planView)) output.say(line);
  // Every diff, for --json only (the text plan made the few it shows), and before anything is written: diffs are of the site as planned.
  const planned = output.json || request.planOnly ? planJson(plan) : undefined;
  if (request.planOnly) return { outcome: 'planned', release: plan.release, site: site.site, plan: planned };
  await confirmPlan(request);

  const installId = newInstallId(plan.release.name, plan.release.version, request.now);
  const steps = await withBaselines(plan.steps, prometheus, output);
  const begin = installBegin({ ...plan, steps }, { installId, user: currentUser(), host: hostname(), pid: process.pid });
  await ensureDir(statePaths(site.stateDir).install(installId), 0o700);
  const journal = Journal.create(statePaths(site.stateDir).journal, begin);
  attempt.begun = true;
  output.say('');
  output.say(`Installing (journal ${statePaths(site.stateDir).journal}, install ${installId}):`);
  const result = await applyInstall({ ...run, journal, begin: { ...begin, at: new Date().toISOString() }, done: new Set(), resumed: false });
  return { ...result, release: plan.release, site: site.site, installId, ...(planned === undefined ? {} : { plan: planned }) };
}

/**
 * What carrying out a run needs besides its journal, once the payload verified: the release's
 * templates and the site variables they need (asked for at a terminal, masked when secret; an
 * error unattended), the databases, and the image target.
 */
async function runInputs(
  output: Output,
  request: InstallRequest,
  parts: { site: Site; records: SiteRecords; attempt: Attempt; bundle: VerifiedBundle; images: SiteImages | undefined; held: HeldBase | undefined; configs: readonly BundleConfigFile[] },
): Promise<Omit<InstallRun, 'journal' | 'begin' | 'done' | 'resumed'>> {
  const { site, bundle, images } = parts;
  const sources = await loadConfigSources(bundle, parts.configs);
  const variables = await completeVariables(templateNeeds(sources), site.variables, {
    interactive: request.interactive && !request.yes,
    siteFile: site.file,
  });
  return {
    site,
    records: parts.records,
    bundle,
    variables,
    sources: new Map<string, ConfigSource>(sources.map((source) => [source.entry.dest, source])),
    databases: parts.attempt.databases,
    ...(images ? { images: openImagePusher(bundle, images, output, parts.held) } : {}),
    output,
  };
}

async function confirmPlan(request: InstallRequest): Promise<void> {
  if (request.yes) return;
  if (!request.interactive) {
    throw new AirlockError('ABORTED', 'no terminal to confirm the plan on: pass --yes to install unattended, or --plan-only to only show the plan');
  }
  if (!(await askConfirm('Apply this plan?'))) throw new AirlockError('ABORTED', 'the plan was not confirmed; nothing was changed');
}

function resumeReport(summary: JournalSummary<InstallBegin>): ResumeReport {
  const { begin } = summary;
  const ids = begin.steps.map(installStepId);
  return {
    installId: begin.installId,
    startedAt: begin.at,
    startedBy: `${begin.user} on ${begin.host} (pid ${begin.pid})`,
    done: ids.filter((id) => summary.done.has(id)),
    interrupted: summary.interrupted,
    failed: summary.failure && { step: summary.failure.step, code: summary.failure.code },
    remaining: ids.filter((id) => !summary.done.has(id) && id !== summary.interrupted),
  };
}

function sayResume(output: Output, report: ResumeReport, begin: InstallBegin): void {
  output.say(`Resuming the interrupted install ${report.installId} of ${begin.release.name} ${begin.release.version}`);
  output.say(`  started ${report.startedAt} by ${report.startedBy}; ${report.done.length} of ${begin.steps.length} steps were done`);
  if (report.failed) output.say(`  it had failed at ${report.failed.step} (${report.failed.code}): finishing its reaction to that failure`);
  if (report.interrupted) output.say(`  interrupted during ${report.interrupted}: running it again`);
  if (report.remaining.length > 0 && !report.failed) output.say(`  then: ${report.remaining.join(', ')}`);
}

/** Tells what an install of this same bundle, killed after its end record, had come to. */
function reportEnded(output: Output, site: Site, ended: JournalSummary<InstallBegin>): InstallReport {
  const { begin } = ended;
  const release = { name: begin.release.name, version: begin.release.version };
  output.say(`The install ${begin.installId} of ${release.name} ${release.version} (started ${begin.at}) had already ended: ${ended.outcome}.`);
  if (ended.outcome !== 'succeeded') {
    const failure = ended.failure;
    throw new AirlockError(
      failure?.code ?? 'INTERNAL',
      `the install of ${release.name} ${release.version} had ended ${ended.outcome}${failure ? ` at ${failure.step}: ${failure.message}` : ''}; run it again to retry`,
    );
  }
  return {
    outcome: 'succeeded',
    release,
    site: site.site,
    installId: begin.installId,
    resumed: resumeReport(ended),
    receipt: receiptFile(site.stateDir, site.site, begin.installId),
  };
}

/** Finishes the interrupted install of this same bundle: its recorded steps, not a new plan; no confirmation (it was confirmed when it began). */
async function resume(
  output: Output,
  request: InstallRequest,
  run: { site: Site; attempt: Attempt; records: SiteRecords; loaded: LoadedBundle<BundleReader> },
  summary: JournalSummary<InstallBegin>,
): Promise<InstallReport> {
  const { site, attempt, records, loaded } = run;
  const { begin } = summary;
  const release = loaded.release();
  const report = resumeReport(summary);
  const name = { name: begin.release.name, version: begin.release.version };
  sayResume(output, report, begin);
  if (request.planOnly) {
    output.say('  (--plan-only: nothing done; run without it to finish the install)');
    return { outcome: 'planned', release: name, site: site.site, installId: begin.installId, resumed: report };
  }
  const pending = begin.steps.filter((step) => !summary.done.has(installStepId(step)));
  const images: SiteImages | undefined = pending.some((step) => step.kind === 'image') ? siteImages(site, release.manifest, request.registry) : undefined;
  if (pending.some((step) => step.kind === 'gate')) gatePrometheus(site, release.manifest);
  for (const step of pending) if (step.kind === 'migrate') await attempt.databases.get(step.db, { lock: true });
  const held = await checkDeltaBase({ release, reader: loaded.reader, images, state: records.state, verifyBase: request.verifyBase === true, output });
  const bundle = await loaded.verifyPayload();
  const inputs = await runInputs(output, request, { site, records, attempt, bundle, images, held, configs: configEntries(release.manifest, site.environment) });
  attempt.begun = true;
  const result = await applyInstall(
    {
      ...inputs,
      journal: Journal.open(statePaths(site.stateDir).journal),
      // A bundle that expired since the run began is finished only under --allow-expired: its audit line and receipt say so.
      begin: { ...begin, overrides: [...new Set([...begin.overrides, ...release.overrides])] },
      done: new Set(summary.done),
      resumed: true,
    },
    summary.failure,
  );
  return { ...result, release: name, site: site.site, installId: begin.installId, resumed: report };
}

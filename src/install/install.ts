/**
 * `airlock install`, start to end: verify -> plan -> confirm -> apply (journaled) -> record.
 * Also the one place that decides between a fresh install and finishing one a kill
 * interrupted: an unfinished journal for the same bundle is resumed from its recorded
 * steps; for any other bundle it must be finished (or rolled back) first.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AirlockError, isAirlockError, type ErrorCode } from '../base/errors.js';
import { loadSite, type Site, type SiteVariables } from '../manifest/site.js';
import { loadTrustStore, type TrustStore } from '../trust/store.js';
import type { Output } from '../ui/output.js';
import { applyInstall, archiveJournal, installDirOf, type ApplyResult, type RunContext } from './apply.js';
import { askConfirm } from '../ui/prompts.js';
import { appendAudit, type AuditInput } from './audit.js';
import { checkTarget, checkVersion } from './checks.js';
import { planConfigChanges, type DesiredConfig } from './plan-config-changes.js';
import { desiredConfig, existingConfigs, loadConfigSources, templateNeeds, type ConfigSource } from './configs.js';
import { ensureDir } from '../fs/durable.js';
import { siteHighest } from './highest.js';
import { compareVersions } from '../manifest/semver.js';
import { Journal, readJournal, remainingSteps, type Begin, type JournalSummary } from './journal.js';
import { acquireSiteLock } from './lock.js';
import { planPendingMigrations } from './plan-pending-migrations.js';
import { planSteps, type DatabasePlan, type InstallPlan } from './plan.js';
import { planJson, planLines } from './plan-view.js';
import { receiptFile } from './receipt.js';
import { currentRelease, ensureStateDir, readState, statePaths } from './state.js';
import { stepId } from './steps.js';
import { openMigrationTarget } from './targets/database.js';
import { type MigrationTarget } from './targets/migration-target.js';
import { openImagePusher, siteImageTarget, type ImagePusher } from './targets/images.js';
import { completeVariables } from './variables.js';
import { openVerified, signedIdentity, type VerifiedBundle } from './verified-bundle.js';
import { currentUser } from './who.js';

export interface InstallRequest {
  bundleFile: string;
  siteFile: string;
  yes: boolean;
  planOnly: boolean;
  allowDowngrade: boolean;
  reinstall: boolean;
  /** Install a bundle past its signed expiry (recorded as an override). */
  allowExpired: boolean;
  /** A registry overriding the site's image target (--registry, --insecure-registry). */
  registry?: { host: string; insecure: boolean };
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

function newInstallId(name: string, version: string, now: Date): string {
  const time = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${name}-${version}-${randomBytes(3).toString('hex')}`;
}

/** Resources of one run, closed whatever happens. */
class Resources {
  readonly databases = new Map<string, MigrationTarget>();
  bundle?: VerifiedBundle;
  /** Once a journal is open, failures are the journal's to record, not refusals. */
  begun = false;

  async openDatabase(site: Site, db: string, lock: boolean): Promise<MigrationTarget> {
    const existing = this.databases.get(db);
    if (existing) return existing;
    const target = site.databases.get(db);
    if (target === undefined) {
      throw new AirlockError('SITE_INVALID', `${site.file}: the bundle has migrations for database ${db}, but targets.databases has no ${db}`);
    }
    const opened = await openMigrationTarget(db, target);
    this.databases.set(db, opened);
    if (lock) await opened.lock();
    return opened;
  }

  async close(): Promise<void> {
    for (const db of this.databases.values()) await db.close().catch(() => undefined);
    await this.bundle?.reader.close().catch(() => undefined);
  }
}

function imagePusherFor(site: Site, request: InstallRequest, bundle: VerifiedBundle, output: Output): ImagePusher | undefined {
  if (bundle.manifest.images.length === 0) return undefined;
  const target = siteImageTarget(site, request.registry);
  if (target === undefined) {
    throw new AirlockError('SITE_INVALID', `${site.file}: the bundle carries ${bundle.manifest.images.length} image(s), but targets.images is not set (or pass --registry)`);
  }
  return openImagePusher(bundle, target, output);
}

async function loadInputs(site: Site, bundle: VerifiedBundle, request: InstallRequest) {
  const sources = await loadConfigSources(bundle, site.environment);
  const variables = await completeVariables(templateNeeds(sources), site.variables, {
    interactive: request.interactive && !request.yes,
    siteFile: site.file,
  });
  return { sources: new Map(sources.map((source) => [source.entry.dest, source])), variables };
}

async function buildPlan(
  site: Site,
  bundle: VerifiedBundle,
  sources: ReadonlyMap<string, ConfigSource>,
  variables: SiteVariables,
  resources: Resources,
  request: InstallRequest,
  images: ImagePusher | undefined,
): Promise<InstallPlan> {
  const { manifest } = bundle;
  const state = await readState(site.stateDir, site);
  const current = currentRelease(state);
  checkTarget(manifest, site);
  const overrides = [...bundle.overrides, ...checkVersion(manifest, { current, highest: siteHighest(site.stateDir, state) }, request)];
  const desired: DesiredConfig[] = [];
  for (const source of sources.values()) desired.push(await desiredConfig(bundle, source, variables));
  const managed = current?.configs ?? {};
  const dests = new Set([...desired.map((d) => d.dest), ...Object.keys(managed)]);
  const existing = await existingConfigs(site.configRoot, dests, managed, (id) => installDirOf(site, id), variables);
  const configs = planConfigChanges(desired, existing, new Set(Object.keys(managed)));

  const databases: DatabasePlan[] = [];
  for (const [db, migrations] of Object.entries(manifest.migrations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (migrations.length === 0) continue;
    const target = await resources.openDatabase(site, db, !request.planOnly);
    const files = migrations.map((m) => ({ version: m.version, description: m.description, path: m.path, checksum: bundle.checksum(m.path) }));
    databases.push({ ...planPendingMigrations(db, files, await target.history()), target: target.description });
  }
  return {
    release: { name: manifest.name, version: manifest.version },
    from: current ? { installId: current.installId, name: current.name, version: current.version } : null,
    site: site.site,
    environment: site.environment,
    bundle: { file: bundle.file, digest: bundle.digest, signers: bundle.signers },
    imageTarget: images?.description,
    images: manifest.images,
    configs,
    databases,
    hooks: manifest.hooks,
    onHealthCheckFailure: site.onHealthCheckFailure ?? manifest.onHealthCheckFailure,
    overrides,
  };
}

async function confirmPlan(request: InstallRequest): Promise<void> {
  if (request.yes) return;
  if (!request.interactive) {
    throw new AirlockError('ABORTED', 'no terminal to confirm the plan on: pass --yes to install unattended, or --plan-only to only show the plan');
  }
  if (!(await askConfirm('Apply this plan?'))) throw new AirlockError('ABORTED', 'the plan was not confirmed; nothing was changed');
}

function resumeReport(summary: JournalSummary): ResumeReport {
  const { begin } = summary;
  return {
    installId: begin.installId,
    startedAt: begin.at,
    startedBy: `${begin.user} on ${begin.host} (pid ${begin.pid})`,
    done: begin.steps.map(stepId).filter((id) => summary.done.has(id)),
    interrupted: summary.interrupted,
    failed: summary.failure && { step: summary.failure.step, code: summary.failure.code },
    remaining: begin.steps.map(stepId).filter((id) => !summary.done.has(id) && id !== summary.interrupted),
  };
}

function sayResume(output: Output, report: ResumeReport, begin: Begin): void {
  output.say(`Resuming the interrupted install ${report.installId} of ${begin.release.name} ${begin.release.version}`);
  output.say(`  started ${report.startedAt} by ${report.startedBy}; ${report.done.length} of ${begin.steps.length} steps were done`);
  if (report.failed) output.say(`  it had failed at ${report.failed.step} (${report.failed.code}): finishing its reaction to that failure`);
  if (report.interrupted) output.say(`  interrupted during ${report.interrupted}: running it again`);
  if (report.remaining.length > 0 && !report.failed) output.say(`  then: ${report.remaining.join(', ')}`);
}

export async function runInstall(output: Output, request: InstallRequest): Promise<InstallReport> {
  const site = await loadSite(request.siteFile);
  const trust = await loadTrustStore(site.trustDir);
  const paths = statePaths(site.stateDir);
  if (!request.planOnly) await ensureStateDir(site.stateDir);
  const lock = request.planOnly ? undefined : await acquireSiteLock(site.stateDir, `install ${request.bundleFile}`);
  if (lock?.tookOver) output.warn(`airlock: took over a stale site lock of pid ${lock.tookOver.pid} (${lock.tookOver.since}): that run is gone`);
  const resources = new Resources();
  let audit: Partial<AuditInput> = { bundleFile: request.bundleFile };
  try {
    try {
      const installed = await alreadyInstalled(site, trust, request);
      if (installed) return installed;
      const verification = await openVerified(request.bundleFile, trust, { now: request.now, allowExpired: request.allowExpired });
      if (!verification.ok) {
        audit.bundleDigest = verification.report?.checksumsDigest;
        // A manifest in the report passed the signature and digest checks (an expired bundle's does): name the release.
        const manifest = verification.report?.manifest;
        if (manifest) audit.release = { name: manifest.name, version: manifest.version };
        throw verification.error;
      }
      const bundle = (resources.bundle = verification.bundle);
      audit = {
        ...audit,
        bundleDigest: bundle.digest,
        signers: bundle.signers,
        release: { name: bundle.manifest.name, version: bundle.manifest.version },
        overrides: [...bundle.overrides],
      };
      for (const problem of bundle.waived) output.warn(`airlock: WARNING: ${problem.message}; ${bundle.overrides.join(' ')} overrides this (an install records it in the audit log and its receipt)`);

      let pending = readJournal(paths.journal);
      if (pending?.outcome !== undefined && !request.planOnly) {
        // The run ended but was killed before it could move its journal away (or say so).
        const ended = pending;
        await archiveJournal(site.stateDir, ended.begin.installId);
        pending = undefined;
        if (ended.begin.kind === 'install' && ended.begin.bundleDigest === bundle.digest) return reportEnded(output, site, ended);
      }
      if (pending !== undefined && pending.outcome === undefined) {
        const { begin } = pending;
        if (begin.kind !== 'install' || begin.bundleDigest !== bundle.digest) {
          throw new AirlockError(
            'INSTALL_INTERRUPTED',
            `${paths.journal}: the ${begin.kind} of ${begin.release.name} ${begin.release.version} started ${begin.at} was interrupted; ` +
              (begin.kind === 'install' ? `run the same install again (${begin.bundleFile}) to finish it, or airlock rollback to undo it` : 'run airlock rollback again to finish it'),
          );
        }
        return await resume(output, request, site, bundle, pending, resources);
      }

      const images = imagePusherFor(site, request, bundle, output);
      const { sources, variables } = await loadInputs(site, bundle, request);
      const plan = await buildPlan(site, bundle, sources, variables, resources, request, images);
      audit.overrides = plan.overrides;
      audit.from = plan.from && { name: plan.from.name, version: plan.from.version };
      for (const line of planLines(plan, site.configRoot)) output.say(line);
      if (request.planOnly) return { outcome: 'planned', release: plan.release, site: site.site, plan: planJson(plan) };
      await confirmPlan(request);

      const installId = newInstallId(plan.release.name, plan.release.version, request.now);
      const begin: Omit<Begin, 'at'> = {
        event: 'begin',
        kind: 'install',
        installId,
        release: plan.release,
        bundleDigest: bundle.digest,
        bundleFile: bundle.file,
        signers: bundle.signers,
        from: plan.from,
        user: currentUser(),
        host: hostname(),
        pid: process.pid,
        overrides: plan.overrides,
        onHealthCheckFailure: plan.onHealthCheckFailure,
        configs: plan.configs.flatMap((c) =>
          c.desired ? [{ dest: c.dest, path: c.desired.path, sha256: c.desired.sha256, mode: c.desired.mode, template: c.desired.template }] : [],
        ),
        steps: planSteps(plan),
      };
      await ensureDir(installDirOf(site, installId), 0o700);
      const journal = Journal.create(paths.journal, begin);
      resources.begun = true;
      output.say('');
      output.say(`Installing (journal ${paths.journal}, install ${installId}):`);
      const result = await applyInstall({
        site,
        bundle,
        variables,
        sources,
        databases: resources.databases,
        images,
        output,
        journal,
        begin: { ...begin, at: new Date().toISOString() },
        done: new Set(),
        resumed: false,
      });
      return { ...result, release: plan.release, site: site.site, installId, plan: planJson(plan) };
    } catch (error) {
      // Refused before the journal began: nothing on the site changed; the audit log says who tried what.
      if (!request.planOnly && !resources.begun && isAirlockError(error)) {
        await appendAudit(site.stateDir, {
          ...audit,
          action: 'install',
          outcome: error.code === 'ABORTED' ? 'aborted' : 'refused',
          site: site.site,
          environment: site.environment,
          code: error.code,
          message: error.message,
        });
      }
      throw error;
    }
  } finally {
    await resources.close();
    await lock?.release();
  }
}

/** Tells what an install of this same bundle, killed after its end record, had come to. */
/**
 * Running the same install again after it succeeded is a no-op, quickly: the signatures
 * identify the bundle as the installed one, so no payload byte needs hashing (none is
 * used). --reinstall applies it again in full; an unfinished journal is resumed instead.
 */
async function alreadyInstalled(site: Site, trust: TrustStore, request: InstallRequest): Promise<InstallReport | undefined> {
  if (request.reinstall || readJournal(statePaths(site.stateDir).journal) !== undefined) return undefined;
  const state = await readState(site.stateDir, site);
  const current = currentRelease(state);
  // An install whose health check failed is not settled: running it again applies it again.
  // After a rollback the installed release is below the highest: its bundle is refused as a downgrade.
  const highest = siteHighest(site.stateDir, state);
  if (current === undefined || current.health === 'failed' || (highest !== undefined && compareVersions(highest.version, current.version) > 0)) return undefined;
  if ((await signedIdentity(request.bundleFile, trust, request.now)) !== current.bundleDigest) return undefined;
  return { outcome: 'unchanged', release: { name: current.name, version: current.version }, site: site.site, installId: current.installId };
}

function reportEnded(output: Output, site: Site, ended: JournalSummary): InstallReport {
  const { begin } = ended;
  const release = { name: begin.release.name, version: begin.release.version };
  output.say(`The install ${begin.installId} of ${release.name} ${release.version} (started ${begin.at}) had already ended: ${ended.outcome}.`);
  if (ended.outcome !== 'succeeded' && ended.outcome !== undefined) {
    const failure = ended.failure;
    throw new AirlockError(
      (failure?.code ?? 'INTERNAL') as ErrorCode,
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

async function resume(
  output: Output,
  request: InstallRequest,
  site: Site,
  bundle: VerifiedBundle,
  summary: JournalSummary,
  resources: Resources,
): Promise<InstallReport> {
  const { begin } = summary;
  const report = resumeReport(summary);
  const release = { name: begin.release.name, version: begin.release.version };
  if (request.planOnly) {
    sayResume(output, report, begin);
    output.say('  (--plan-only: nothing done; run without it to finish the install)');
    return { outcome: 'planned', release, site: site.site, installId: begin.installId, resumed: report };
  }
  sayResume(output, report, begin);
  const pendingSteps = remainingSteps(summary);
  const images = pendingSteps.some((step) => step.kind === 'image') ? imagePusherFor(site, request, bundle, output) : undefined;
  const { sources, variables } = await loadInputs(site, bundle, request);
  for (const step of pendingSteps) if (step.kind === 'migrate') await resources.openDatabase(site, step.db, true);
  resources.begun = true;
  const ctx: RunContext = {
    site,
    bundle,
    variables,
    sources,
    databases: resources.databases,
    images,
    output,
    journal: Journal.open(statePaths(site.stateDir).journal),
    // A bundle that expired since the run began is finished only under --allow-expired: its audit line and receipt say so.
    begin: { ...begin, overrides: [...new Set([...begin.overrides, ...bundle.overrides])] },
    done: new Set(summary.done),
    resumed: true,
  };
  const result = await applyInstall(ctx, summary.failure);
  return { ...result, release, site: site.site, installId: begin.installId, resumed: report };
}

/**
 * The install plan: everything an install will do, shown to the operator before anything
 * happens, the ordered steps that carry it out, and the begin record that commits the journal
 * to them. Pure: what is on the site (config files, database histories) comes in as data.
 *
 * Step order, and why:
 *   prepare           files for the run itself (state directory only)
 *   pre-install hooks may refuse; nothing on the site has changed yet
 *   images            new image content; running services are not affected
 *   migrations        before configs, so a failing migration leaves the configs untouched
 *   backup, configs   every touched file copied first, then written atomically
 *   post-install hooks, health checks
 *   record            the release goes onto the site's state
 */
import { attachedKind } from '../oci/attached.js';
import type { BundleHealthCheck, BundleHook, BundleImage, BundleManifest } from '../manifest/bundle-manifest.js';
import { BATCH_FILES } from '../fs/durable-batch.js';
import { isHealthGate } from '../manifest/health-gate.js';
import type { Signer } from '../verify/report.js';
import type { InstallStep } from './install-steps.js';
import type { InstallBegin } from './journal.js';
import { planConfigChanges, type ConfigChange, type DesiredConfig, type ExistingConfig } from './plan-config-changes.js';
import type { MigrationPlan } from './plan-pending-migrations.js';

export interface DatabasePlan extends MigrationPlan {
  /** Where the database is, for people (never a password). */
  target: string;
}

export interface PlannedImage extends BundleImage {
  /** Where it goes: `<registry>/<repository>:<tag>`, or `<layout dir>:<ref>`. */
  target: string;
}

type ReleaseRef = { installId: string; name: string; version: string };

export interface InstallPlan {
  release: { name: string; version: string };
  from: ReleaseRef | null;
  site: string;
  environment: string;
  bundle: { file: string; digest: string; signers: readonly Signer[] };
  /** Where images go, for people: the registry or the layout directory. */
  imageTarget?: string;
  images: PlannedImage[];
  configs: ConfigChange[];
  databases: DatabasePlan[];
  hooks: BundleManifest['hooks'];
  /** The site's Prometheus the health gates query (its URL), when the site names one. */
  prometheus?: string;
  onHealthCheckFailure: 'rollback' | 'stop';
  overrides: string[];
  steps: InstallStep[];
}

export interface InstallPlanInputs {
  release: { file: string; manifest: BundleManifest; digest: string; signers: readonly Signer[] };
  site: { site: string; environment: string; onHealthCheckFailure?: 'rollback' | 'stop'; telemetry?: { prometheus?: { url: string } } };
  from: ReleaseRef | null;
  /** Overrides the checks needed (expiry, downgrade, reinstall). */
  overrides: readonly string[];
  /** Where images go; absent only when the release carries none. */
  images?: { description: string; destination(ref: string): string };
  /** The release's config files as they would be written, what the config root holds at those paths, and which paths the installed release put there. */
  configs: { desired: readonly DesiredConfig[]; existing: ReadonlyMap<string, ExistingConfig>; managed: ReadonlySet<string> };
  databases: DatabasePlan[];
}

export function planInstall(inputs: InstallPlanInputs): InstallPlan {
  const { manifest } = inputs.release;
  const images = inputs.images;
  const plan: Omit<InstallPlan, 'steps'> = {
    release: { name: manifest.name, version: manifest.version },
    from: inputs.from,
    site: inputs.site.site,
    environment: inputs.site.environment,
    bundle: { file: inputs.release.file, digest: inputs.release.digest, signers: inputs.release.signers },
    ...(images === undefined ? {} : { imageTarget: images.description }),
    images: images === undefined ? [] : manifest.images.map((image) => ({ ...image, target: images.destination(image.ref) })),
    configs: planConfigChanges(inputs.configs.desired, inputs.configs.existing, inputs.configs.managed),
    databases: inputs.databases,
    hooks: manifest.hooks,
    ...(inputs.site.telemetry?.prometheus === undefined ? {} : { prometheus: inputs.site.telemetry.prometheus.url }),
    onHealthCheckFailure: inputs.site.onHealthCheckFailure ?? manifest.onHealthCheckFailure,
    overrides: [...inputs.overrides],
  };
  return { ...plan, steps: installSteps(plan) };
}

function hookSteps(phase: 'preInstall' | 'postInstall' | 'healthCheck', hooks: readonly BundleHook[]): InstallStep[] {
  return hooks.map((hook) => ({ kind: 'hook', phase, name: hook.name, path: hook.path, timeoutSeconds: hook.timeoutSeconds }));
}

/** Scripts and gates, in the order the release lists them; a gate's baseline is sampled when the run begins (health-gates.ts). */
function healthCheckSteps(checks: readonly BundleHealthCheck[]): InstallStep[] {
  return checks.flatMap((check) => (isHealthGate(check) ? [{ kind: 'gate' as const, gate: check }] : hookSteps('healthCheck', [check])));
}

function installSteps(plan: Omit<InstallPlan, 'steps'>): InstallStep[] {
  const touched = plan.configs.filter((change) => change.action !== 'unchanged');
  const steps: InstallStep[] = [{ kind: 'prepare' }, ...hookSteps('preInstall', plan.hooks.preInstall)];
  for (const image of plan.images) {
    const attached = (image.attached ?? []).map((artifact) => ({ digest: artifact.digest, kind: attachedKind(artifact) }));
    steps.push({ kind: 'image', ref: image.ref, digest: image.digest, mediaType: image.mediaType, target: image.target, ...(attached.length > 0 ? { attached } : {}) });
  }
  for (const database of plan.databases) {
    for (const migration of database.pending) steps.push({ kind: 'migrate', db: database.db, ...migration });
  }
  if (touched.length > 0) steps.push({ kind: 'backup', dests: touched.map((change) => change.dest) });
  for (const change of touched) if (change.desired === undefined) steps.push({ kind: 'remove', dest: change.dest });
  const files = touched.flatMap(({ desired }) => (desired === undefined ? [] : [{ dest: desired.dest, path: desired.path, template: desired.template, mode: desired.mode, sha256: desired.sha256 }]));
  // A journaled step per batch, not per file: two journal fsyncs and two flushes per BATCH_FILES files.
  for (let start = 0; start < files.length; start += BATCH_FILES) {
    steps.push({ kind: 'configs', batch: start / BATCH_FILES + 1, files: files.slice(start, start + BATCH_FILES) });
  }
  steps.push(...hookSteps('postInstall', plan.hooks.postInstall), ...healthCheckSteps(plan.hooks.healthCheck));
  steps.push({ kind: 'record' });
  return steps;
}

/** The journal's first line for this plan: what a re-run after a kill carries out, whatever the site looks like by then. */
export function installBegin(plan: InstallPlan, run: Pick<InstallBegin, 'installId' | 'user' | 'host' | 'pid'>): Omit<InstallBegin, 'at'> {
  return {
    event: 'begin',
    kind: 'install',
    ...run,
    release: plan.release,
    bundleDigest: plan.bundle.digest,
    bundleFile: plan.bundle.file,
    signers: [...plan.bundle.signers],
    from: plan.from,
    overrides: plan.overrides,
    onHealthCheckFailure: plan.onHealthCheckFailure,
    configs: plan.configs.flatMap((c) =>
      c.desired ? [{ dest: c.dest, path: c.desired.path, sha256: c.desired.sha256, mode: c.desired.mode, template: c.desired.template }] : [],
    ),
    steps: plan.steps,
  };
}

export interface PlanCounts {
  images: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  migrations: number;
  hooks: number;
}

export function planCounts(plan: InstallPlan): PlanCounts {
  const count = (action: ConfigChange['action'] | Array<ConfigChange['action']>) =>
    plan.configs.filter((change) => (Array.isArray(action) ? action.includes(change.action) : change.action === action)).length;
  return {
    images: plan.images.length,
    added: count('add'),
    changed: count(['change', 'mode']),
    removed: count('remove'),
    unchanged: count('unchanged'),
    migrations: plan.databases.reduce((sum, db) => sum + db.pending.length, 0),
    hooks: plan.hooks.preInstall.length + plan.hooks.postInstall.length + plan.hooks.healthCheck.length,
  };
}

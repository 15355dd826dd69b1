/**
 * The install plan: everything an install will do, shown to the operator before anything
 * happens, and the ordered steps that carry it out. Pure.
 *
 * Step order, and why:
 *   prepare           files for the run itself (state directory only)
 *   pre-install hooks may refuse; nothing on the site has changed yet
 *   images            new image content; running services are not affected
 *   migrations        before configs, so a failing migration leaves the configs untouched
 *   backup, configs   every touched file copied first, then written atomically
 *   post-install hooks, health checks
 *   record            state, receipt, audit
 */
import type { BundleHook, BundleImage, BundleManifest } from '../manifest/bundle-manifest.js';
import type { ConfigChange } from './plan-config-changes.js';
import type { MigrationPlan } from './plan-pending-migrations.js';
import type { Step } from './steps.js';

export interface DatabasePlan extends MigrationPlan {
  /** Where the database is, for people (never a password). */
  target: string;
}

export interface InstallPlan {
  release: { name: string; version: string };
  from: { installId: string; name: string; version: string } | null;
  site: string;
  environment: string;
  bundle: { file: string; digest: string; signers: Array<{ keyId: string; name?: string; roles: string[] }> };
  /** Where images go, for people. */
  imageTarget?: string;
  images: BundleImage[];
  configs: ConfigChange[];
  databases: DatabasePlan[];
  hooks: BundleManifest['hooks'];
  onHealthCheckFailure: 'rollback' | 'stop';
  overrides: string[];
}

function hookSteps(phase: 'preInstall' | 'postInstall' | 'healthCheck', hooks: readonly BundleHook[]): Step[] {
  return hooks.map((hook) => ({ kind: 'hook', phase, name: hook.name, path: hook.path, timeoutSeconds: hook.timeoutSeconds }));
}

export function planSteps(plan: InstallPlan): Step[] {
  const touched = plan.configs.filter((change) => change.action !== 'unchanged');
  const steps: Step[] = [{ kind: 'prepare' }, ...hookSteps('preInstall', plan.hooks.preInstall)];
  for (const image of plan.images) steps.push({ kind: 'image', ref: image.ref, digest: image.digest, mediaType: image.mediaType });
  for (const database of plan.databases) {
    for (const migration of database.pending) steps.push({ kind: 'migrate', db: database.db, ...migration });
  }
  if (touched.length > 0) steps.push({ kind: 'backup', dests: touched.map((change) => change.dest) });
  for (const change of touched) {
    if (change.desired === undefined) steps.push({ kind: 'remove', dest: change.dest });
    else {
      const { dest, path, template, mode, sha256 } = change.desired;
      steps.push({ kind: 'config', dest, path, template, mode, sha256 });
    }
  }
  steps.push(...hookSteps('postInstall', plan.hooks.postInstall), ...hookSteps('healthCheck', plan.hooks.healthCheck));
  steps.push({ kind: 'record' });
  return steps;
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

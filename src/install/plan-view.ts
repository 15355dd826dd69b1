/** The plans for people (text), and the install plan for scripts (the `plan` member of --json output). */
import type { BundleHook } from '../manifest/bundle-manifest.js';
import { isHealthGate } from '../manifest/health-gate.js';
import { describeGate, needsBaseline } from '../telemetry/gate-condition.js';
import { humanBytes, shortDigest } from '../ui/format.js';
import { formatMode, type ConfigChange } from './plan-config-changes.js';
import { planCounts, type InstallPlan } from './plan-install.js';
import type { RollbackPlan } from './plan-rollback.js';
import { rollbackStepId, type RollbackStep } from './rollback-steps.js';
import type { Backup } from './targets/files.js';

const MARK: Record<ConfigChange['action'], string> = { add: '+', change: '~', mode: '~', remove: '-', unchanged: '=' };
/** Longer diffs are cut in the terminal; --json carries them whole. */
const MAX_DIFF_LINES = 120;

function signerNames(plan: InstallPlan): string {
  if (plan.bundle.signers.length === 0) return 'nobody';
  return plan.bundle.signers
    .map((s) => `${s.name ? `${s.name} ${s.keyId}` : s.keyId}${s.roles.length > 0 ? ` (${s.roles.join(', ')})` : ''}`)
    .join(', ');
}

function kindOfInstall(plan: InstallPlan): string {
  if (plan.from === null) return 'first install on this site';
  if (plan.from.version === plan.release.version) return `reinstall over ${plan.from.name} ${plan.from.version}`;
  return `from ${plan.from.name} ${plan.from.version}`;
}

function configLine(change: ConfigChange): string {
  const mode = change.desired ? formatMode(change.desired.mode) : undefined;
  const modeText =
    change.action === 'mode' && change.previousMode !== undefined
      ? ` mode ${formatMode(change.previousMode)} -> ${mode}`
      : mode !== undefined
        ? ` (${mode}${change.desired?.template ? ', template' : ''})`
        : '';
  return `  ${MARK[change.action]} ${change.dest}${modeText}`;
}

export function planLines(plan: InstallPlan, configRoot: string): string[] {
  const counts = planCounts(plan);
  const lines = [
    `Install ${plan.release.name} ${plan.release.version} on site ${plan.site} (${plan.environment}): ${kindOfInstall(plan)}`,
    `  bundle  ${plan.bundle.file}`,
    `  digest  ${plan.bundle.digest} (sha256 of SHA256SUMS)`,
    `  signed  ${signerNames(plan)}`,
  ];
  if (plan.overrides.length > 0) lines.push(`  overrides  ${plan.overrides.join(' ')}`);

  lines.push('', plan.images.length === 0 ? 'Images: (none)' : `Images -> ${plan.imageTarget ?? '?'} (${counts.images}):`);
  for (const image of plan.images) lines.push(`  + ${image.ref} -> ${image.target}  ${shortDigest(image.digest)}  ${humanBytes(image.size)}`);

  lines.push(
    '',
    `Configs -> ${configRoot} (${counts.added} added, ${counts.changed} changed, ${counts.removed} removed, ${counts.unchanged} unchanged):`,
  );
  for (const change of plan.configs) {
    if (change.action === 'unchanged') continue;
    lines.push(configLine(change));
    for (const note of change.notes) lines.push(`      note: ${note}`);
    if (change.diff === undefined) continue;
    const diff = change.diff.split('\n');
    for (const line of diff.slice(0, MAX_DIFF_LINES)) lines.push(`      ${line}`);
    if (diff.length > MAX_DIFF_LINES) lines.push(`      ... ${diff.length - MAX_DIFF_LINES} more diff lines (--json has them all)`);
  }
  if (counts.added + counts.changed + counts.removed === 0) lines.push('  (no changes)');

  lines.push('', 'Migrations:');
  if (plan.databases.length === 0) lines.push('  (none)');
  for (const db of plan.databases) {
    lines.push(`  ${db.db} (${db.target}): ${db.applied} applied, ${db.pending.length} pending`);
    for (const migration of db.pending) lines.push(`    V${migration.version}  ${migration.description}  (${migration.path})`);
    if (db.unknown.length > 0) lines.push(`    note: applied but not in this bundle: ${db.unknown.map((v) => `V${v}`).join(', ')}`);
  }

  lines.push('', 'Hooks:');
  const hooks = (label: string, list: InstallPlan['hooks']['preInstall']) =>
    lines.push(`  ${label}: ${list.length === 0 ? '(none)' : list.map((hook) => `${hook.name} (${hook.timeoutSeconds}s)`).join(', ')}`);
  hooks('pre-install ', plan.hooks.preInstall);
  hooks('post-install', plan.hooks.postInstall);
  hooks('health check', plan.hooks.healthCheck.filter((check): check is BundleHook => !isHealthGate(check)));
  const gates = plan.hooks.healthCheck.filter(isHealthGate);
  if (gates.length > 0) lines.push(`  health gates on Prometheus ${plan.prometheus ?? '(none named in the site file)'}:`);
  for (const gate of gates) {
    lines.push(`    ${gate.name}: ${describeGate(gate)}`);
    if (needsBaseline(gate)) lines.push('      the value before is sampled once the plan is confirmed, before anything changes');
  }
  lines.push(`  if a health check fails: ${plan.onHealthCheckFailure === 'rollback' ? 'restore the previous configs' : 'stop and report'}`);
  return lines;
}

export function planJson(plan: InstallPlan) {
  return {
    release: plan.release,
    from: plan.from,
    site: plan.site,
    environment: plan.environment,
    bundle: plan.bundle,
    overrides: plan.overrides,
    counts: planCounts(plan),
    images: plan.images.map((image) => ({ ref: image.ref, target: image.target, digest: image.digest, size: image.size })),
    configs: plan.configs.map((change) => ({
      dest: change.dest,
      action: change.action,
      mode: change.desired ? formatMode(change.desired.mode) : undefined,
      previousMode: change.previousMode === undefined ? undefined : formatMode(change.previousMode),
      template: change.desired?.template,
      notes: change.notes,
      diff: change.diff,
    })),
    migrations: plan.databases.map((db) => ({
      db: db.db,
      target: db.target,
      applied: db.applied,
      pending: db.pending.map((m) => ({ version: m.version, description: m.description, path: m.path })),
      unknown: db.unknown,
    })),
    hooks: plan.hooks,
    ...(plan.prometheus === undefined ? {} : { prometheus: plan.prometheus }),
    onHealthCheckFailure: plan.onHealthCheckFailure,
  };
}

export function rollbackLines(plan: RollbackPlan, site: { site: string; environment: string }, backup: Backup): string[] {
  const { target } = plan;
  const release = (r: { name: string; version: string }) => `${r.name} ${r.version}`;
  const undo = plan.steps.filter((step): step is Extract<RollbackStep, { kind: 'undo' }> => step.kind === 'undo');
  const retag = plan.steps.filter((step): step is Extract<RollbackStep, { kind: 'retag' }> => step.kind === 'retag');
  const lines = [
    `Roll back ${target.interrupted ? 'the interrupted install of ' : ''}${release(target)} on site ${site.site} (${site.environment})`,
    `  returns to  ${target.to ? release(target.to) : 'the state before it (nothing installed)'}`,
    `  configs     ${backup.length} file(s) put back as they were before it`,
    ...backup.map((entry) => `    ${entry.existed ? '~' : '-'} ${entry.dest}`),
  ];
  if (undo.length > 0) lines.push(`  migrations  undo, newest first: ${undo.map(rollbackStepId).join(', ')}`);
  if (plan.kept.length > 0) lines.push(`  migrations  stay applied (roll forward only): ${plan.kept.map((m) => `${m.db} V${m.version}`).join(', ')}`);
  for (const step of retag) lines.push(`  images      ${step.ref} back to ${step.digest}`);
  return lines;
}

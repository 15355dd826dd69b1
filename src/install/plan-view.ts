/** The plans for people (text), and the install plan for scripts (the `plan` member of --json output). */
import { attachedKind, describeAttached } from '../oci/attached.js';
import type { BundleHook } from '../manifest/bundle-manifest.js';
import { isHealthGate } from '../manifest/health-gate.js';
import { describeGate, needsBaseline } from '../telemetry/gate-condition.js';
import { humanBytes, shortDigest } from '../ui/format.js';
import { directoryLines } from './plan-directories.js';
import { formatMode, type ConfigChange } from './plan-config-changes.js';
import { planCounts, type InstallPlan, type PlanCounts } from './plan-install.js';
import type { RollbackPlan } from './plan-rollback.js';
import { rollbackStepId, type RollbackStep } from './rollback-steps.js';
import type { Backup } from './targets/files.js';

const MARK: Record<ConfigChange['action'], string> = { add: '+', change: '~', mode: '~', remove: '-', unchanged: '=' };
/** Longer diffs are cut in the terminal; --json carries them whole. */
const MAX_DIFF_LINES = 120;
/** Up to this many files the plan lists each one; past it, counts per directory (and the files whose diffs are shown). */
const LIST_FILES_UP_TO = 40;
/** The per-directory counts fit a screen beside the rest of the plan. */
const DIRECTORY_LINES = 20;
/** Up to this many images are listed one by one; --json lists them all. */
const LIST_IMAGES_UP_TO = 40;

/** How many diffs the text plan shows (`--diff all|none|<n>`; none is 0). --json always carries every one. */
export type DiffLimit = number | 'all';
/** A few diffs say what kind of change this is; a person reads no more at a glance, and --diff all or --json has the rest. */
export const DEFAULT_DIFFS = 10;

export interface PlanViewOptions {
  /** DEFAULT_DIFFS when not given. */
  diffs?: DiffLimit;
}

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

/** Changes to files already on the site come first: they are the ones a person must read; new files come last. */
const PRIORITY: Record<ConfigChange['action'], number> = { change: 0, mode: 0, remove: 1, add: 2, unchanged: 3 };

function changeLines(change: ConfigChange, withDiff: boolean): string[] {
  const lines = [configLine(change), ...change.notes.map((note) => `      note: ${note}`)];
  if (!withDiff || change.diff === undefined) return lines;
  const diff = change.diff.split('\n');
  for (const line of diff.slice(0, MAX_DIFF_LINES)) lines.push(`      ${line}`);
  if (diff.length > MAX_DIFF_LINES) lines.push(`      ... ${diff.length - MAX_DIFF_LINES} more diff lines (--json has them all)`);
  return lines;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * Every changed file with its diff while the plan is short; past LIST_FILES_UP_TO files, counts per
 * directory, then the files whose diffs are shown, then how many more and how to see them.
 */
function configLines(plan: InstallPlan, configRoot: string, counts: PlanCounts, diffs: DiffLimit): string[] {
  const lines = [`Configs -> ${configRoot} (${counts.added} added, ${counts.changed} changed, ${counts.removed} removed, ${counts.unchanged} unchanged):`];
  const touched = plan.configs.filter((change) => change.action !== 'unchanged');
  if (touched.length === 0) return [...lines, '  (no changes)'];
  const ranked = [...touched].sort((a, b) => PRIORITY[a.action] - PRIORITY[b.action]);
  const shown = ranked.slice(0, diffs === 'all' ? ranked.length : diffs);
  const withDiff = new Set(shown);

  if (diffs === 'all' || touched.length <= LIST_FILES_UP_TO) {
    for (const change of touched) lines.push(...changeLines(change, withDiff.has(change)));
    const held = touched.filter((change) => !withDiff.has(change) && change.diff !== undefined).length;
    if (held > 0) lines.push(`  (${held === 1 ? '1 more diff' : `${held} more diffs`} not shown: --diff all shows every one, --json has them all)`);
    return lines;
  }

  const entries = plan.configs.map((change) => ({ path: change.dest, kind: change.action === 'mode' ? ('change' as const) : change.action }));
  lines.push(...directoryLines(entries, { marks: { add: '+', change: '~', remove: '-', unchanged: '=' }, quiet: 'unchanged', maxLines: DIRECTORY_LINES }));
  if (shown.length > 0) {
    const order = touched.some((change) => change.action !== 'add') ? ' (changes to files on the site before new files)' : '';
    lines.push('', `  ${shown.length === 1 ? 'The first changed file' : `The first ${shown.length} changed files`}${order}, with ${shown.length === 1 ? 'its diff' : 'their diffs'}:`);
    for (const change of shown) lines.push(...changeLines(change, true));
  }
  lines.push(`  ... ${plural(touched.length - shown.length, 'more changed file')}: --diff <n> or --diff all lists them with their diffs, --json has every one`);
  return lines;
}

export function planLines(plan: InstallPlan, configRoot: string, options: PlanViewOptions = {}): string[] {
  const counts = planCounts(plan);
  const lines = [
    `Install ${plan.release.name} ${plan.release.version} on site ${plan.site} (${plan.environment}): ${kindOfInstall(plan)}`,
    `  bundle  ${plan.bundle.file}`,
    `  digest  ${plan.bundle.digest} (sha256 of SHA256SUMS)`,
    `  signed  ${signerNames(plan)}`,
  ];
  if (plan.overrides.length > 0) lines.push(`  overrides  ${plan.overrides.join(' ')}`);

  lines.push('', plan.images.length === 0 ? 'Images: (none)' : `Images -> ${plan.imageTarget ?? '?'} (${counts.images}):`);
  const listed = plan.images.length <= LIST_IMAGES_UP_TO ? plan.images : plan.images.slice(0, LIST_IMAGES_UP_TO / 2);
  for (const image of listed) {
    lines.push(`  + ${image.ref} -> ${image.target}  ${shortDigest(image.digest)}  ${humanBytes(image.size)}`);
    if (image.attached !== undefined && image.attached.length > 0) lines.push(`      with ${describeAttached(image.attached)} attached (pushed beside it)`);
  }
  if (listed.length < plan.images.length) {
    const rest = plan.images.slice(listed.length);
    lines.push(`  ... ${plural(rest.length, 'more image')} (${humanBytes(rest.reduce((total, image) => total + image.size, 0))}): --json lists every one`);
  }

  lines.push('', ...configLines(plan, configRoot, counts, options.diffs ?? DEFAULT_DIFFS));

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
    images: plan.images.map((image) => ({
      ref: image.ref,
      target: image.target,
      digest: image.digest,
      size: image.size,
      attached: (image.attached ?? []).map((artifact) => ({ digest: artifact.digest, kind: attachedKind(artifact), artifactType: artifact.artifactType, tag: artifact.tag })),
    })),
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

/** Each file a rollback puts back (~) or deletes (-, the install added it), or past LIST_FILES_UP_TO, counts per directory. */
function backupLines(backup: Backup, installId: string): string[] {
  if (backup.length <= LIST_FILES_UP_TO) return backup.map((entry) => `    ${entry.existed ? '~' : '-'} ${entry.dest}`);
  const entries = backup.map((entry) => ({ path: entry.dest, kind: entry.existed ? ('restore' as const) : ('remove' as const) }));
  const legend = [backup.some((entry) => entry.existed) ? '~ put back' : '', backup.some((entry) => !entry.existed) ? '- deleted (the install added it)' : ''];
  return [
    ...directoryLines(entries, { marks: { restore: '~', remove: '-' }, maxLines: DIRECTORY_LINES }, '    '),
    `    (${legend.filter((text) => text !== '').join(', ')}; every file: installs/${installId}/previous.json in the state directory)`,
  ];
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
    ...backupLines(backup, target.installId),
  ];
  if (undo.length > 0) lines.push(`  migrations  undo, newest first: ${undo.map(rollbackStepId).join(', ')}`);
  if (plan.kept.length > 0) lines.push(`  migrations  stay applied (roll forward only): ${plan.kept.map((m) => `${m.db} V${m.version}`).join(', ')}`);
  for (const step of retag) lines.push(`  images      ${step.ref} back to ${step.digest}`);
  return lines;
}

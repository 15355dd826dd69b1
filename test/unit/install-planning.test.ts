/**
 * The install and rollback planners as pure functions: pending migrations, the target and
 * version checks (with "nothing to do" for the very bundle installed), the install plan's
 * steps, images and begin record, and the rollback plan's target and steps.
 */
import { describe, expect, it } from 'vitest';
import { checkTarget, checkVersion } from '../../src/install/checks.js';
import { BATCH_FILES } from '../../src/fs/durable-batch.js';
import { installStepId } from '../../src/install/install-steps.js';
import type { InstallBegin, JournalSummary } from '../../src/install/journal.js';
import { installBegin, planInstall, type InstallPlanInputs } from '../../src/install/plan-install.js';
import { planPendingMigrations, type MigrationFile } from '../../src/install/plan-pending-migrations.js';
import { chooseTarget, planRollback, rollbackBegin, undoScriptKey } from '../../src/install/plan-rollback.js';
import { rollbackStepId } from '../../src/install/rollback-steps.js';
import { bundleManifest } from '../support/bundle-manifest.js';
import { fails } from '../support/errors.js';
import { installBeginRecord, releaseRecord } from '../support/install-records.js';

const file = (version: string, checksum = `c${version}`): MigrationFile => ({
  version,
  description: `step ${version}`,
  path: `migrations/shop/V${version}__step.sql`,
  checksum,
});

describe('migration plan', () => {
  it('lists what is not applied, in version order', () => {
    const plan = planPendingMigrations('shop', [file('10'), file('2'), file('1.1'), file('1')], [{ version: '1', description: '', checksum: 'c1' }]);
    expect(plan.pending.map((m) => m.version)).toEqual(['1.1', '2', '10']);
    expect(plan.applied).toBe(1);
  });

  it('refuses an applied migration whose bytes changed, naming file and database', () => {
    const message = fails('MIGRATION_CHANGED', () => planPendingMigrations('shop', [file('1', 'edited'), file('2')], [{ version: '1', description: '', checksum: 'c1' }]));
    expect(message).toContain('migrations/shop/V1__step.sql');
    expect(message).toContain('database shop');
  });

  it('refuses a new migration older than one applied', () => {
    const message = fails('MIGRATION_CHANGED', () =>
      planPendingMigrations('shop', [file('1'), file('2'), file('3')], [{ version: '1', description: '', checksum: 'c1' }, { version: '3', description: '', checksum: 'c3' }]),
    );
    expect(message).toContain('V2__step.sql');
  });

  it('reports applied versions the bundle no longer has', () => {
    expect(planPendingMigrations('shop', [file('1')], [{ version: '1', description: '', checksum: 'c1' }, { version: '0.5', description: '', checksum: 'x' }]).unknown).toEqual(['0.5']);
  });
});

const site = { site: 'plant-a', environment: 'prod' };
const none = { allowDowngrade: false, reinstall: false };
const digestA = 'a'.repeat(64);
const digestB = 'b'.repeat(64);
const release = (patch: Parameters<typeof bundleManifest>[0] = {}, digest = digestA) => ({ manifest: bundleManifest(patch), digest });

describe('target and version checks', () => {
  it('accepts any site when the bundle names none', () => {
    expect(() => checkTarget(bundleManifest(), site)).not.toThrow();
  });

  it('refuses another site or environment, naming both', () => {
    expect(fails('WRONG_TARGET', () => checkTarget(bundleManifest({ targets: { sites: ['plant-b'], environments: [] } }), site))).toContain('plant-b, not plant-a');
    expect(fails('WRONG_TARGET', () => checkTarget(bundleManifest({ targets: { sites: [], environments: ['staging'] } }), site))).toContain('not prod');
  });

  const at = (version: string, patch: { name?: string; bundleDigest?: string; health?: 'passed' | 'failed' | 'none' } = {}) => ({
    current: { name: patch.name ?? 'shop', version, bundleDigest: patch.bundleDigest ?? digestA, health: patch.health ?? 'passed' },
  });

  it('allows upgrades, refuses downgrades without their flag, and reports the flags used', () => {
    expect(checkVersion(release(), {}, none)).toEqual({ action: 'install', overrides: [] });
    expect(checkVersion(release(), at('1.0.0'), none)).toEqual({ action: 'install', overrides: [] });
    expect(fails('DOWNGRADE', () => checkVersion(release(), at('1.10.0'), none))).toContain('older than the installed 1.10.0');
    expect(checkVersion(release(), at('2.0.0'), { ...none, allowDowngrade: true })).toEqual({ action: 'install', overrides: ['--allow-downgrade'] });
    expect(fails('WRONG_TARGET', () => checkVersion(release(), at('1.0.0', { name: 'other' }), none))).toContain('other 1.0.0');
  });

  it('has nothing to do for the very bundle installed, and applies it again only with --reinstall', () => {
    expect(checkVersion(release(), at('1.1.0'), none)).toEqual({ action: 'none' });
    expect(checkVersion(release(), at('1.1.0'), { ...none, reinstall: true })).toEqual({ action: 'install', overrides: ['--reinstall'] });
    // An install whose health check failed is not settled.
    expect(fails('DOWNGRADE', () => checkVersion(release(), at('1.1.0', { health: 'failed' }), none))).toContain('--reinstall');
  });

  it('refuses a rebuilt bundle of the installed version, showing both content digests in full', () => {
    const message = fails('DOWNGRADE', () => checkVersion(release({}, digestB), at('1.1.0'), none));
    expect(message).toContain(`content digest ${digestB} differs from the installed one's ${digestA}`);
    expect(message).toContain('--reinstall');
    expect(checkVersion(release({}, digestB), at('1.1.0'), { ...none, reinstall: true })).toEqual({ action: 'install', overrides: ['--reinstall'] });
  });
});

const desired = (dest: string) => ({ dest, path: `configs/prod/${dest}`, mode: 0o644, template: false, sha256: `s-${dest}`, display: () => '' });

function planInputs(patch: Partial<InstallPlanInputs> = {}): InstallPlanInputs {
  return {
    release: {
      file: 'shop-1.1.0.airlock',
      digest: digestA,
      signers: [{ keyId: 'k'.repeat(64), name: 'build', roles: ['build'] }],
      manifest: bundleManifest({
        images: [{ ref: 'registry.example/shop/app:1', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', platforms: [], size: 1 }],
        hooks: {
          preInstall: [{ name: 'pre', path: 'hooks/pre.sh', timeoutSeconds: 5 }],
          postInstall: [{ name: 'post', path: 'hooks/post.sh', timeoutSeconds: 5 }],
          healthCheck: [{ name: 'ok', path: 'hooks/ok.sh', timeoutSeconds: 5 }],
        },
      }),
    },
    site,
    from: { installId: 'run-1', name: 'shop', version: '1.0.0' },
    overrides: [],
    images: { description: 'registry 10.0.0.9:5000', destination: (ref) => `10.0.0.9:5000/${ref.split('/').slice(1).join('/')}` },
    configs: {
      desired: [desired('a.conf'), desired('b.conf')],
      existing: new Map([['a.conf', { sha256: 's-a.conf', mode: 0o644, display: () => '', origin: 'managed' as const }], ['c.conf', { sha256: 'old', mode: 0o644, display: () => '', origin: 'managed' as const }]]),
      managed: new Set(['a.conf', 'c.conf']),
    },
    databases: [{ db: 'shop', target: 'sqlite shop.db', applied: 0, unknown: [], pending: [file('1'), file('2')] }],
    ...patch,
  };
}

describe('install plan', () => {
  it('runs hooks, images, migrations, backup, configs, checks and record in that order, touching only what changes', () => {
    const plan = planInstall(planInputs());
    expect(plan.configs.map((c) => `${c.action} ${c.dest}`)).toEqual(['unchanged a.conf', 'add b.conf', 'remove c.conf']);
    expect(plan.steps.map(installStepId)).toEqual([
      'prepare',
      'hook:preInstall:pre',
      'image:registry.example/shop/app:1',
      'migrate:shop:V1',
      'migrate:shop:V2',
      'backup',
      'remove:c.conf',
      'configs:1',
      'hook:postInstall:post',
      'health:ok',
      'record',
    ]);
    expect(plan.steps.find((step) => step.kind === 'backup')).toEqual({ kind: 'backup', dests: ['b.conf', 'c.conf'] });
    expect(plan.steps.find((step) => step.kind === 'configs')).toMatchObject({ batch: 1, files: [{ dest: 'b.conf' }] });
  });

  it('journals config files in batches of BATCH_FILES, each file once, in plan order', () => {
    const inputs = planInputs();
    const many = Array.from({ length: BATCH_FILES * 2 + 3 }, (_, i) => `web/d${i % 7}/f${i}.txt`);
    const plan = planInstall({ ...inputs, configs: { desired: many.map(desired), existing: new Map(), managed: new Set() } });
    const batches = plan.steps.filter((step) => step.kind === 'configs');
    expect(batches.map((step) => [step.batch, step.files.length])).toEqual([[1, BATCH_FILES], [2, BATCH_FILES], [3, 3]]);
    expect(batches.flatMap((step) => step.files.map((file) => file.dest))).toEqual(plan.configs.filter((c) => c.action === 'add').map((c) => c.dest));
  });

  it('names where each image goes, in the plan and in its step', () => {
    const plan = planInstall(planInputs());
    expect(plan.imageTarget).toBe('registry 10.0.0.9:5000');
    expect(plan.images.map((image) => `${image.ref} -> ${image.target}`)).toEqual(['registry.example/shop/app:1 -> 10.0.0.9:5000/shop/app:1']);
    expect(plan.steps.find((step) => step.kind === 'image')).toMatchObject({ ref: 'registry.example/shop/app:1', target: '10.0.0.9:5000/shop/app:1' });
  });

  it('takes the site reaction to a failed health check over the bundle one, and records the plan in the begin record', () => {
    const plan = planInstall(planInputs({ site: { ...site, onHealthCheckFailure: 'stop' }, overrides: ['--allow-expired'] }));
    expect(plan.onHealthCheckFailure).toBe('stop');
    const begin = installBegin(plan, { installId: 'run-2', user: 'root', host: 'h', pid: 1 });
    expect(begin).toMatchObject({ kind: 'install', installId: 'run-2', bundleDigest: digestA, bundleFile: 'shop-1.1.0.airlock', overrides: ['--allow-expired'], from: { installId: 'run-1' } });
    // Every config of the release, changed or not (what the state records), and the steps exactly as planned.
    expect(begin.configs.map((c) => c.dest)).toEqual(['a.conf', 'b.conf']);
    expect(begin.steps).toEqual(plan.steps);
  });

  it('plans nothing but prepare and record for a release that changes nothing', () => {
    const plan = planInstall(
      planInputs({
        release: { ...planInputs().release, manifest: bundleManifest() },
        images: undefined,
        configs: { desired: [desired('a.conf')], existing: new Map([['a.conf', { sha256: 's-a.conf', mode: 0o644, display: () => '', origin: 'managed' as const }]]), managed: new Set(['a.conf']) },
        databases: [],
      }),
    );
    expect(plan.steps.map(installStepId)).toEqual(['prepare', 'record']);
    expect(plan.images).toEqual([]);
  });
});

describe('rollback plan', () => {
  const record = releaseRecord;
  const image = (ref: string, digest: string) => ({ ref, digest: `sha256:${digest.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  const releases = [
    record('1.0.0', { images: [image('r/app:stable', 'a'), image('r/app:1.0', 'a')] }),
    record('1.1.0', { images: [image('r/app:stable', 'b'), image('r/app:1.1', 'b')], migrations: { shop: ['4', '5'], audit: ['1'] } }),
  ];
  const choices = { undoMigrations: false, undoScripts: new Map<string, string>(), images: true };

  it('refuses when there is nothing earlier to return to', () => {
    expect(fails('NOTHING_TO_ROLL_BACK', () => chooseTarget('plant-a', undefined, []))).toContain('nothing is installed');
    expect(fails('NOTHING_TO_ROLL_BACK', () => chooseTarget('plant-a', undefined, releases.slice(0, 1)))).toContain('the only release installed here');
  });

  it('undoes the installed release: moved tags back, configs restored, migrations kept unless asked', () => {
    const target = chooseTarget('plant-a', undefined, releases);
    expect(target).toMatchObject({ installId: 'run-1.1.0', interrupted: false, to: { installId: 'run-1.0.0', version: '1.0.0' } });
    const plan = planRollback(target, choices);
    // Only the tag both releases had moves back; the version tag of the undone release stays.
    expect(plan.steps.map(rollbackStepId)).toEqual(['retag:r/app:stable', 'restore:run-1.1.0']);
    expect(plan.kept).toEqual([
      { db: 'shop', version: '4' },
      { db: 'shop', version: '5' },
      { db: 'audit', version: '1' },
    ]);
    expect(planRollback(target, { ...choices, images: false }).steps.map(rollbackStepId)).toEqual(['restore:run-1.1.0']);
  });

  it('runs undo scripts newest first with --undo-migrations, and refuses unless every migration has one', () => {
    const target = chooseTarget('plant-a', undefined, releases);
    const scripts = new Map(target.migrations.map((m) => [undoScriptKey(m), `/undo/${m.db}/${m.version}.sql`]));
    const plan = planRollback(target, { ...choices, undoMigrations: true, undoScripts: scripts });
    expect(plan.steps.map(rollbackStepId)).toEqual(['undo:shop:U5', 'undo:shop:U4', 'undo:audit:U1', 'retag:r/app:stable', 'restore:run-1.1.0']);
    expect(plan.kept).toEqual([]);
    scripts.delete('shop:4');
    expect(fails('FILE_MISSING', () => planRollback(target, { ...choices, undoMigrations: true, undoScripts: scripts }))).toContain('migration 4 of database shop has no undo script');
  });

  it('undoes an interrupted install from its journal: only what it did, and ends its journal as the last step', () => {
    const begin: InstallBegin = {
      ...installBeginRecord([
        { kind: 'image', ref: 'r/app:stable', digest: `sha256:${'c'.repeat(64)}`, mediaType: 'x', target: 't' },
        { kind: 'migrate', db: 'shop', version: '6', description: 'six', path: 'p6', checksum: 'c6' },
        { kind: 'migrate', db: 'shop', version: '7', description: 'seven', path: 'p7', checksum: 'c7' },
        { kind: 'record' },
      ]),
      at: '2026-01-01T00:00:00Z',
      installId: 'run-1.2.0',
      release: { name: 'shop', version: '1.2.0' },
      from: { installId: 'run-1.1.0', name: 'shop', version: '1.1.0' },
    };
    const interrupted: JournalSummary<InstallBegin> = { begin, done: new Set(['image:r/app:stable', 'migrate:shop:V6']), interrupted: 'migrate:shop:V7' };
    const target = chooseTarget('plant-a', interrupted, releases);
    expect(target).toMatchObject({ installId: 'run-1.2.0', interrupted: true, to: { installId: 'run-1.1.0' }, migrations: [{ db: 'shop', version: '6' }] });
    const plan = planRollback(target, choices);
    expect(plan.steps.map(rollbackStepId)).toEqual(['retag:r/app:stable', 'restore:run-1.2.0', 'conclude:run-1.2.0']);
    expect(plan.steps[0]).toMatchObject({ digest: `sha256:${'b'.repeat(64)}` });
    const journaled = rollbackBegin(plan, { installId: 'rb-1', user: 'root', host: 'h', pid: 1 }, false);
    expect(journaled).toMatchObject({ kind: 'rollback', target: { installId: 'run-1.2.0', interrupted: true }, to: { version: '1.1.0' }, kept: [{ db: 'shop', version: '6' }], overrides: [] });
  });
});

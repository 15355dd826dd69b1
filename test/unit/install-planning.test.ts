import { describe, expect, it } from 'vitest';
import { checkTarget, checkVersion } from '../../src/install/checks.js';
import { planPendingMigrations, type MigrationFile } from '../../src/install/plan-pending-migrations.js';
import { planSteps, type InstallPlan } from '../../src/install/plan.js';
import { stepId } from '../../src/install/steps.js';
import { bundleManifest } from '../support/bundle-manifest.js';
import { fails } from '../support/errors.js';


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

const manifest = bundleManifest;
const site = { site: 'plant-a', environment: 'prod' };
const none = { allowDowngrade: false, reinstall: false };

describe('target and version checks', () => {
  it('accepts any site when the bundle names none', () => {
    expect(() => checkTarget(manifest(), site)).not.toThrow();
  });

  it('refuses another site or environment, naming both', () => {
    expect(fails('WRONG_TARGET', () => checkTarget(manifest({ targets: { sites: ['plant-b'], environments: [] } }), site))).toContain('plant-b, not plant-a');
    expect(fails('WRONG_TARGET', () => checkTarget(manifest({ targets: { sites: [], environments: ['staging'] } }), site))).toContain('not prod');
  });

  it('allows upgrades, refuses downgrades and reinstalls without their flags, and reports the flags used', () => {
    const at = (version: string, name = 'shop') => ({ current: { name, version } });
    expect(checkVersion(manifest(), {}, none)).toEqual([]);
    expect(checkVersion(manifest(), at('1.0.0'), none)).toEqual([]);
    expect(fails('DOWNGRADE', () => checkVersion(manifest(), at('1.1.0'), none))).toContain('--reinstall');
    expect(fails('DOWNGRADE', () => checkVersion(manifest(), at('1.10.0'), none))).toContain('older than the installed 1.10.0');
    expect(checkVersion(manifest(), at('1.1.0'), { ...none, reinstall: true })).toEqual(['--reinstall']);
    expect(checkVersion(manifest(), at('2.0.0'), { ...none, allowDowngrade: true })).toEqual(['--allow-downgrade']);
    expect(fails('WRONG_TARGET', () => checkVersion(manifest(), at('1.0.0', 'other'), none))).toContain('other 1.0.0');
  });
});

describe('install steps', () => {
  it('runs hooks, images, migrations, backup, configs, checks and record in that order', () => {
    const plan: InstallPlan = {
      release: { name: 'shop', version: '1.1.0' },
      from: null,
      site: 'a',
      environment: 'prod',
      bundle: { file: 'b', digest: 'd', signers: [] },
      images: [{ ref: 'r/app:1', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'x', platforms: [], size: 1 }],
      configs: [
        { dest: 'a.conf', action: 'unchanged', notes: [], desired: { dest: 'a.conf', path: 'p', mode: 420, template: false, sha256: 's', display: '' } },
        { dest: 'b.conf', action: 'add', notes: [], desired: { dest: 'b.conf', path: 'p', mode: 420, template: false, sha256: 's', display: '' } },
        { dest: 'c.conf', action: 'remove', notes: [] },
      ],
      databases: [{ db: 'shop', target: 't', applied: 0, unknown: [], pending: [file('1'), file('2')] }],
      hooks: {
        preInstall: [{ name: 'pre', path: 'hooks/pre.sh', timeoutSeconds: 5 }],
        postInstall: [{ name: 'post', path: 'hooks/post.sh', timeoutSeconds: 5 }],
        healthCheck: [{ name: 'ok', path: 'hooks/ok.sh', timeoutSeconds: 5 }],
      },
      onHealthCheckFailure: 'rollback',
      overrides: [],
    };
    expect(planSteps(plan).map(stepId)).toEqual([
      'prepare',
      'hook:preInstall:pre',
      'image:r/app:1',
      'migrate:shop:V1',
      'migrate:shop:V2',
      'backup',
      'config:b.conf',
      'remove:c.conf',
      'hook:postInstall:post',
      'health:ok',
      'record',
    ]);
  });
});

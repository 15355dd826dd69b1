/**
 * `airlock install`, `status`, `history` and `rollback` through the real CLI on a site with
 * embedded defaults (config directory, SQLite): fresh install, upgrade, plan-only, refusals
 * that must leave the site untouched, failing migrations, hooks and health checks, locks,
 * rollback.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { CLI, runCli } from '../support/cli.js';
import {
  auditLines,
  exampleReleases,
  configFiles,
  install,
  makeFixture,
  makeSite,
  SECRET,
  shopVariant,
  snapshot,
  sqliteSchema,
  stateTextWithoutBackups,
  type Fixture,
  type TestSite,
} from '../support/install-fixture.js';

let fixture: Fixture;
let v100: string;
let v110: string;

beforeAll(async () => {
  fixture = await makeFixture();
  ({ v100, v110 } = await exampleReleases(fixture));
});

async function installed100(): Promise<TestSite> {
  const site = await makeSite(fixture);
  const result = await install(v100, site);
  expect(result.code, result.stderr).toBe(0);
  return site;
}

describe('install on SQLite', () => {
  it('installs a release, then upgrades it with new migrations, touching only what changed', async () => {
    const site = await installed100();
    const afterFirst = await snapshot(site);
    expect(Object.keys(afterFirst.configs)).toEqual(['nginx/conf.d/shop.conf', 'nginx/conf.d/upstream.conf', 'shop/app.yaml', 'shop/logging.conf']);
    expect(afterFirst.configs['shop/app.yaml']).toMatch(/^640 /);
    const rendered = await readFile(join(site.etc, 'shop/app.yaml'), 'utf8');
    expect(rendered).toContain(`api_token: "${SECRET}"`);
    expect(rendered).toContain('host: db.internal');
    expect(afterFirst.db.history.map((h) => h.split('|')[0])).toEqual(['1', '2', '3']);

    const logging = await readFile(join(site.etc, 'shop/logging.conf'));
    const loggingMtime = (await import('node:fs')).statSync(join(site.etc, 'shop/logging.conf')).mtimeMs;
    const upgrade = await install(v110, site, '--json');
    expect(upgrade.code, upgrade.stderr).toBe(0);
    const report = JSON.parse(upgrade.stdout);
    expect(report.outcome).toBe('succeeded');
    expect(report.plan.counts).toMatchObject({ added: 1, changed: 1, removed: 0, unchanged: 3, migrations: 1 });
    expect(report.plan.configs.find((c: { dest: string }) => c.dest === 'shop/app.yaml').diff).toContain('+notifications:');

    const after = await snapshot(site);
    expect(Object.keys(after.configs)).toContain('nginx/conf.d/cache.conf');
    expect(await readFile(join(site.etc, 'shop/logging.conf'))).toEqual(logging);
    expect((await import('node:fs')).statSync(join(site.etc, 'shop/logging.conf')).mtimeMs).toBe(loggingMtime);
    expect(after.db.history).toEqual([...afterFirst.db.history, expect.stringMatching(/^4\|create order items\|[0-9a-f]{12}\|1\|1\.1\.0$/)]);
    expect(after.db.tables.join('\n')).toContain('CREATE TABLE order_items');

    const status = JSON.parse((await runCli(['status', '--site', site.file, '--json'])).stdout);
    expect(status.installed).toMatchObject({ name: 'shop', version: '1.1.0', health: 'passed' });
    expect(status.installed.bundleDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(status.installed.signers[0].name).toBe('build');
    expect(status.previous).toMatchObject({ version: '1.0.0' });
    const receipt = JSON.parse(await readFile(status.installed.receipt, 'utf8'));
    expect(receipt).toMatchObject({ outcome: 'succeeded', release: { version: '1.1.0' }, migrationsApplied: { shop: [{ version: '4' }] } });

    const history = await runCli(['history', '--site', site.file]);
    expect(history.stdout).toMatch(/install\s+shop 1\.0\.0\s+succeeded/);
    expect(history.stdout).toMatch(/install\s+shop 1\.1\.0\s+succeeded.*from 1\.0\.0/);

    // The secret is on the site where it belongs, and nowhere in what airlock records or prints.
    expect(await stateTextWithoutBackups(site)).not.toContain(SECRET);
    expect(upgrade.stdout + upgrade.stderr).not.toContain(SECRET);
  });

  it('prints a plan with masked diffs and changes nothing with --plan-only', async () => {
    const site = await installed100();
    await writeFile(join(site.etc, 'shop/app.yaml'), (await readFile(join(site.etc, 'shop/app.yaml'), 'utf8')).replace('workers: 8', 'workers: 9'));
    const before = await snapshot(site);
    const audit = await auditLines(site);
    const plan = await runCli(['install', v110, '--site', site.file, '--plan-only']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('~ shop/app.yaml (0640, template)');
    expect(plan.stdout).toContain('edited on disk since airlock installed it');
    expect(plan.stdout).toContain('   host: <<db_host>>');
    expect(plan.stdout).toContain('+  smtp_host: <<smtp_host>>');
    expect(plan.stdout).toContain('-  workers: 9');
    expect(plan.stdout).toContain('V4  create order items');
    expect(plan.stdout).toContain('Plan only: nothing was changed.');
    expect(plan.stdout).not.toContain(SECRET);
    expect(await snapshot(site)).toEqual(before);
    expect(await auditLines(site)).toEqual(audit);
  });

  it('refuses an edited applied migration before changing anything', async () => {
    const site = await installed100();
    const edited = await shopVariant(fixture, { migrations: { 'V2__create_orders.sql': 'CREATE TABLE orders (id INTEGER PRIMARY KEY); -- edited\n' } });
    const before = await snapshot(site);
    const result = await install(edited, site);
    expect(result.code).toBe(exitCodeFor('MIGRATION_CHANGED'));
    expect(result.stderr).toMatch(/migrations\/shop\/V2__create_orders\.sql: migration 2 was applied to database shop/);
    expect(await snapshot(site)).toEqual(before);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code: 'MIGRATION_CHANGED' });
  });

  it('rolls back a failing migration, stops, and leaves the configs untouched', async () => {
    const site = await installed100();
    const failing = await shopVariant(fixture, {
      migrations: { 'V5__broken.sql': 'CREATE TABLE half_done (id INTEGER);\nINSERT INTO missing_table VALUES (1);\n' },
    });
    const before = await snapshot(site);
    const result = await install(failing, site);
    expect(result.code).toBe(exitCodeFor('MIGRATION_FAILED'));
    expect(result.stderr).toContain('migrations/shop/V5__broken.sql: failed on database shop');
    expect(result.stderr).toContain('no such table: missing_table');
    expect(result.stderr).toContain('no config file was changed');
    const after = await snapshot(site);
    expect(after.configs).toEqual(before.configs);
    expect(after.state).toEqual(before.state);
    // V4 ran before it and stays (roll forward); V5 left only its failed history row.
    expect(after.db.history.map((h) => h.split('|')[0] + ':' + h.split('|')[3])).toEqual(['1:1', '2:1', '3:1', '4:1', '5:0']);
    expect(after.db.tables.join('\n')).not.toContain('half_done');
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'failed', code: 'MIGRATION_FAILED' });
  });

  it('refuses tampered, expired, wrong-site and older bundles without changing the site', async () => {
    const site = await installed100();
    const upgraded = await install(v110, site);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    // The installed version built again with another expiry: the same version, another bundle.
    const rebuilt110 = await shopVariant(fixture, { top: 'expires: 365d\ntargets:\n  environments: [staging, prod]' });
    // Tampered: a newer release with one payload byte flipped. (A tampered copy of the installed
    // version is refused as that version, before its payload is read: see install-refusals.test.ts.)
    const tampered = join(fixture.dir, 'tampered.airlock');
    const bytes = await readFile(await shopVariant(fixture, { version: '1.2.0' }));
    const at = bytes.indexOf(Buffer.from('-- The lines of an order'));
    bytes[at] = bytes[at]! ^ 1;
    await writeFile(tampered, bytes);
    // Without SOURCE_DATE_EPOCH the manifest's created time counts: a bundle that expired in 2020.
    const expired = await shopVariant(fixture, {
      version: '1.2.0',
      top: 'created: 2020-01-01T00:00:00Z\nexpires: 1d\ntargets:\n  environments: [staging, prod]',
      env: { SOURCE_DATE_EPOCH: '' },
    });
    const elsewhere = await shopVariant(fixture, { version: '1.3.0', top: 'expires: 730d\ntargets:\n  sites: [plant-b]\n  environments: [staging, prod]' });
    const before = await snapshot(site);
    const cases: Array<[string, string, string]> = [
      [tampered, 'DIGEST_MISMATCH', 'V4__create_order_items.sql'],
      [expired, 'EXPIRED', 'expired at'],
      [elsewhere, 'WRONG_TARGET', 'plant-b, not plant-a'],
      [v100, 'DOWNGRADE', 'older than the installed 1.1.0'],
      [rebuilt110, 'DOWNGRADE', 'already installed from another bundle'],
    ];
    for (const [bundle, code, text] of cases) {
      const result = await install(bundle, site);
      expect(result.code, `${code}: ${result.stderr}`).toBe(exitCodeFor(code as never));
      expect(result.stderr).toContain(text);
      expect(await snapshot(site)).toEqual(before);
      expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code });
    }
    expect(existsSync(join(site.state, 'journal.jsonl'))).toBe(false);
    expect(existsSync(join(site.state, 'install.lock'))).toBe(false);

    const dev = await makeSite(fixture, { environment: 'dev' });
    const wrongEnvironment = await install(v110, dev);
    expect(wrongEnvironment.code).toBe(exitCodeFor('WRONG_TARGET'));
    expect(wrongEnvironment.stderr).toContain('is for environment staging, prod, not dev');
    expect(await snapshot(dev)).toEqual({ configs: {}, db: { tables: [], history: [] }, state: null });
  });

  it('runs the same install again as a no-op, and --reinstall applies it again, putting back a hand-edited config', async () => {
    const site = await installed100();
    const before = await snapshot(site);
    const audit = await auditLines(site);
    const again = await install(v100, site, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'unchanged', release: { name: 'shop', version: '1.0.0' } });
    const human = await install(v100, site);
    expect(human.stdout).toContain('shop 1.0.0 is already installed on site plant-a from this same bundle');
    expect(await snapshot(site)).toEqual(before);
    expect(await auditLines(site)).toEqual(audit);

    const edited = join(site.etc, 'shop/logging.conf');
    const original = await readFile(edited, 'utf8');
    await writeFile(edited, 'level: debug\n');
    expect((await install(v100, site)).code).toBe(0);
    expect(await readFile(edited, 'utf8')).toBe('level: debug\n');
    const reinstall = await install(v100, site, '--reinstall');
    expect(reinstall.code, reinstall.stderr).toBe(0);
    expect(await readFile(edited, 'utf8')).toBe(original);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'succeeded', overrides: ['--reinstall'] });
  });

  it('installs an older release with --allow-downgrade and records the override', async () => {
    const site = await installed100();
    expect((await install(v110, site)).code).toBe(0);
    const result = await install(v100, site, '--allow-downgrade');
    expect(result.code, result.stderr).toBe(0);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'succeeded', overrides: ['--allow-downgrade'], release: { version: '1.0.0' } });
  });

  it('names a missing variable and the file needing it, and never prompts without a terminal', async () => {
    const site = await makeSite(fixture, { variables: { db_host: 'db', smtp_host: 'mail' } });
    const result = await install(v100, site);
    expect(result.code).toBe(exitCodeFor('VARIABLE_MISSING'));
    expect(result.stderr).toContain('variable api_token is needed by config shop/app.yaml');
    expect(await configFiles(site)).toEqual({});
  });

  it('at a terminal, asks for a missing variable (masked) and for confirmation', async () => {
    const site = await makeSite(fixture, { variables: { db_host: 'db', smtp_host: 'mail' } });
    const typed = 'typed-token-at-the-terminal';
    const session = (answer: string) =>
      // script(1) gives the CLI a real pseudo-terminal; the sleeps let each prompt appear first.
      execa('bash', ['-c', `(sleep 1.5; printf '%s\\r' "$T"; sleep 1.5; printf '%s\\r' "$A"; sleep 3) | script -qec "$CMD" /dev/null`], {
        env: { T: typed, A: answer, CMD: `${process.execPath} ${CLI} install ${v100} --site ${site.file}` },
        reject: false,
        timeout: 30_000,
      });
    const declined = await session('n');
    expect(declined.stdout).toContain('Value for api_token (needed by shop/app.yaml; not in the site file)');
    expect(declined.stdout).toContain('Apply this plan?');
    expect(declined.stdout).toContain('ABORTED: the plan was not confirmed; nothing was changed');
    expect(await configFiles(site)).toEqual({});

    const accepted = await session('y');
    expect(accepted.stdout).toContain('*'.repeat(typed.length));
    expect(accepted.stdout).not.toContain(typed);
    expect(accepted.stdout).toContain('Installed shop 1.0.0');
    expect(await readFile(join(site.etc, 'shop/app.yaml'), 'utf8')).toContain(`api_token: "${typed}"`);
    expect(await stateTextWithoutBackups(site)).not.toContain(typed);
  });

  it('asks for confirmation: without a terminal and without --yes nothing happens', async () => {
    const site = await makeSite(fixture);
    const result = await runCli(['install', v100, '--site', site.file]);
    expect(result.code).toBe(exitCodeFor('ABORTED'));
    expect(result.stderr).toContain('pass --yes');
    expect(await configFiles(site)).toEqual({});
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'aborted' });
  });

  it('gives hooks the release, not the site variables, and logs their output', async () => {
    const site = await installed100();
    const bundle = await shopVariant(fixture, {
      hooks: 'hooks:\n  postInstall:\n    - { name: env, script: variants/hooks/env.sh, timeout: 10s }\n',
    });
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(0);
    const env = await readFile(join(site.dir, 'hook-env.txt'), 'utf8');
    expect(env).toContain('AIRLOCK_RELEASE_NAME=shop\n');
    expect(env).toContain('AIRLOCK_RELEASE_VERSION=1.1.0\n');
    expect(env).toContain('AIRLOCK_ENVIRONMENT=prod\n');
    expect(env).toContain('AIRLOCK_SITE=plant-a\n');
    expect(env).not.toContain(SECRET);
    expect(env).not.toContain('db_host');
  });

  it('stops before any change when a pre-install hook fails', async () => {
    const site = await installed100();
    const bundle = await shopVariant(fixture, { hooks: 'hooks:\n  preInstall:\n    - { name: refuse, script: variants/hooks/fail.sh }\n' });
    const before = await snapshot(site);
    const result = await install(bundle, site);
    expect(result.code).toBe(exitCodeFor('HOOK_FAILED'));
    expect(result.stderr).toContain('hook:preInstall:refuse exited with 3');
    expect(await snapshot(site)).toEqual(before);
  });

  it('restores the previous configs when a health check fails (rollback reaction)', async () => {
    const site = await installed100();
    const bundle = await shopVariant(fixture, { hooks: 'hooks:\n  healthCheck:\n    - { name: probe, script: variants/hooks/fail.sh, timeout: 5s }\n' });
    const before = await snapshot(site);
    const result = await install(bundle, site);
    expect(result.code).toBe(exitCodeFor('HEALTH_CHECK_FAILED'));
    expect(result.stderr).toContain('health:probe exited with 3; its output is in');
    expect(result.stderr).toContain('configs restored to shop 1.0.0');
    const after = await snapshot(site);
    expect(after.configs).toEqual(before.configs);
    expect(after.state).toEqual(before.state);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'rolled-back', code: 'HEALTH_CHECK_FAILED' });
    const logs = (await readdir(join(site.state, 'installs'))).map((id) => join(site.state, 'installs', id, 'install.log'));
    expect((await Promise.all(logs.filter(existsSync).map((log) => readFile(log, 'utf8')))).join('')).toContain('health: broken');
  });

  it('leaves an unhealthy release in place when the site says stop, and rollback returns from it', async () => {
    const site = await installed100();
    const first = await snapshot(site);
    await writeFile(site.file, `${await readFile(site.file, 'utf8')}\nonHealthCheckFailure: stop\n`);
    const bundle = await shopVariant(fixture, { hooks: 'hooks:\n  healthCheck:\n    - { name: probe, script: variants/hooks/fail.sh }\n' });
    const result = await install(bundle, site);
    expect(result.code).toBe(exitCodeFor('HEALTH_CHECK_FAILED'));
    expect(result.stderr).toContain('stays installed as asked');
    const status = JSON.parse((await runCli(['status', '--site', site.file, '--json'])).stdout);
    expect(status.installed).toMatchObject({ version: '1.1.0', health: 'failed' });

    const rollback = await runCli(['rollback', '--site', site.file, '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('back on shop 1.0.0');
    expect(rollback.stdout).toContain('Still applied (migrations roll forward only): shop V4');
    const after = await snapshot(site);
    expect(after.configs).toEqual(first.configs);
    expect(after.state).toEqual(first.state);
  });

  it('rolls back to the previous release, undoing migrations only when asked', async () => {
    const site = await installed100();
    const first = await snapshot(site);
    expect((await install(v110, site)).code).toBe(0);
    const rollback = await runCli(['rollback', '--site', site.file, '--yes', '--undo-migrations', '--json']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ to: { version: '1.0.0' }, migrationsUndone: [{ db: 'shop', version: '4' }] });
    expect(await snapshot(site)).toEqual(first);
    const again = await runCli(['rollback', '--site', site.file, '--yes']);
    expect(again.code).toBe(exitCodeFor('NOTHING_TO_ROLL_BACK'));
    // The same upgrade installs again after a rollback.
    expect((await install(v110, site)).code).toBe(0);
    expect((await auditLines(site)).map((e) => `${e.action}:${e.outcome}`)).toEqual([
      'install:succeeded',
      'install:succeeded',
      'rollback:succeeded',
      'install:succeeded',
    ]);
  });

  it('lets one install run at a time per site', async () => {
    const site = await installed100();
    const slow = await shopVariant(fixture, { hooks: 'hooks:\n  preInstall:\n    - { name: slow, script: variants/hooks/slow.sh }\n' });
    const first = execa(process.execPath, [CLI, 'install', slow, '--site', site.file, '--yes'], { reject: false });
    const lock = join(site.state, 'install.lock');
    for (let i = 0; i < 100 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);
    const second = await install(v110, site);
    expect(second.code).toBe(exitCodeFor('INSTALL_LOCKED'));
    expect(second.stderr).toMatch(/another airlock run holds this site: pid \d+ on .*install /);
    expect((await first).exitCode).toBe(0);
    expect(sqliteSchema(site.db).history).toHaveLength(4);
    // Refused, and audited as such, beside the run that held the lock.
    expect((await auditLines(site)).slice(-2)).toEqual([
      expect.objectContaining({ outcome: 'refused', code: 'INSTALL_LOCKED' }),
      expect.objectContaining({ outcome: 'succeeded', release: { name: 'shop', version: '1.1.0' } }),
    ]);
  });
});

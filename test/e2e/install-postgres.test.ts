/**
 * `airlock install` through the real CLI against a real PostgreSQL 15 started for the test:
 * fresh install, upgrade, edited migration refused, failing migration rolled back with the
 * configs untouched, two installers on one database, and kill -9 between migrations.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { CLI, runCli } from '../support/cli.js';
import { configFiles, copySite, exampleReleases, makeFixture, makeSite, shopVariant, type Fixture, type TestSite } from '../support/install-fixture.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

let pg: TestPostgres;
let fixture: Fixture;
let v100: string;
let v110: string;
let databases = 0;
// Trust authentication ignores it, but the password still travels the passwordEnv way.
const env = { SHOP_DB_PASSWORD: 'pg-password-never-printed' };

beforeAll(async () => {
  [pg, fixture] = await Promise.all([startPostgres(), makeFixture()]);
  ({ v100, v110 } = await exampleReleases(fixture));
});
afterAll(async () => {
  await pg?.stop();
});

async function pgSite(database?: string): Promise<{ site: TestSite; database: string }> {
  const name = database ?? `shop${databases++}`;
  if (database === undefined) await pg.createDatabase(name);
  const site = await makeSite(fixture, {
    databases: `    shop: { postgres: { host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, database: ${name}, passwordEnv: SHOP_DB_PASSWORD } }`,
  });
  return { site, database: name };
}

const install = (bundle: string, site: TestSite, extra: Record<string, string> = {}) =>
  runCli(['install', bundle, '--site', site.file, '--yes'], { env: { ...env, ...extra } });

async function schema(database: string): Promise<{ tables: string[]; history: string[] }> {
  const tables = (await pg.psql(database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).split('\n').filter(Boolean);
  const history = tables.includes('airlock_schema_history')
    ? (
        await pg.psql(
          database,
          "SELECT version || '|' || description || '|' || left(checksum, 12) || '|' || success || '|' || bundle_version FROM airlock_schema_history ORDER BY installed_rank",
        )
      )
        .split('\n')
        .filter(Boolean)
    : [];
  return { tables, history };
}

describe('install on PostgreSQL', () => {
  it('installs, then upgrades with a new migration, each recorded in airlock_schema_history', async () => {
    const { site, database } = await pgSite();
    const first = await install(v100, site);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`shop (postgres postgres@${pg.host}:${pg.port}/${database}): 0 applied, 3 pending`);
    expect((await schema(database)).history.map((h) => h.split('|')[0])).toEqual(['1', '2', '3']);

    const upgrade = await install(v110, site);
    expect(upgrade.code, upgrade.stderr).toBe(0);
    const after = await schema(database);
    expect(after.tables).toEqual(['airlock_schema_history', 'customers', 'order_items', 'orders']);
    expect(after.history.at(-1)).toMatch(/^4\|create order items\|[0-9a-f]{12}\|true\|1\.1\.0$/);
    expect(first.stdout + first.stderr + upgrade.stdout + upgrade.stderr).not.toContain(env.SHOP_DB_PASSWORD);
  });

  it('refuses an applied migration whose file changed, naming file and database', async () => {
    const { site, database } = await pgSite();
    expect((await install(v100, site)).code).toBe(0);
    const edited = await shopVariant(fixture, { migrations: { 'V1__create_customers.sql': 'CREATE TABLE customers (id INTEGER PRIMARY KEY, extra TEXT);\n' } });
    const before = { db: await schema(database), configs: await configFiles(site) };
    const result = await install(edited, site);
    expect(result.code).toBe(exitCodeFor('MIGRATION_CHANGED'));
    expect(result.stderr).toContain('migrations/shop/V1__create_customers.sql: migration 1 was applied to database shop');
    expect({ db: await schema(database), configs: await configFiles(site) }).toEqual(before);
  });

  it("rolls back a failing migration with PostgreSQL's message and leaves the configs untouched", async () => {
    const { site, database } = await pgSite();
    expect((await install(v100, site)).code).toBe(0);
    const configs = await configFiles(site);
    const failing = await shopVariant(fixture, {
      migrations: { 'V5__broken.sql': 'CREATE TABLE half_done (id INTEGER);\nINSERT INTO missing_table VALUES (1);\n' },
    });
    const result = await install(failing, site);
    expect(result.code).toBe(exitCodeFor('MIGRATION_FAILED'));
    expect(result.stderr).toContain('migrations/shop/V5__broken.sql: failed on database shop');
    expect(result.stderr).toContain('relation "missing_table" does not exist');
    expect(await configFiles(site)).toEqual(configs);
    const after = await schema(database);
    expect(after.tables).not.toContain('half_done');
    expect(after.history.map((h) => `${h.split('|')[0]}:${h.split('|')[3]}`)).toEqual(['1:true', '2:true', '3:true', '4:true', '5:false']);
    const status = JSON.parse((await runCli(['status', '--site', site.file, '--json'])).stdout);
    expect(status.installed.version).toBe('1.0.0');
  });

  it('keeps a second installer off a database another site is installing into', async () => {
    const { site: first, database } = await pgSite();
    const { site: second } = await pgSite(database);
    const slow = await shopVariant(fixture, { hooks: 'hooks:\n  preInstall:\n    - { name: slow, script: variants/hooks/slow.sh }\n' });
    const running = execa(process.execPath, [CLI, 'install', slow, '--site', first.file, '--yes'], { reject: false, env });
    const lock = join(first.state, 'install.lock');
    for (let i = 0; i < 100 && !existsSync(join(first.state, 'journal.jsonl')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);
    const refused = await install(v110, second);
    expect(refused.code).toBe(exitCodeFor('INSTALL_LOCKED'));
    expect(refused.stderr).toContain('database shop');
    expect(refused.stderr).toContain('advisory lock held');
    expect((await running).exitCode).toBe(0);
    expect(await configFiles(second)).toEqual({});
    expect((await schema(database)).history).toHaveLength(4);
  });

  it('finishes an install killed between migrations with the same schema and history', { timeout: 120_000 }, async () => {
    const { site: reference, database: referenceDb } = await pgSite();
    expect((await install(v100, reference)).code).toBe(0);
    const expected = { db: await schema(referenceDb), configs: await configFiles(reference) };
    for (const point of ['done:migrate:shop:V1', 'start:migrate:shop:V2', 'done:migrate:shop:V3', 'write:shop/app.yaml']) {
      const { site: template, database } = await pgSite();
      const site = await copySite(template);
      const crashed = await install(v100, site, { AIRLOCK_TEST_CRASH_AT: point });
      expect(crashed.code, point).toBe(-1);
      const rerun = await install(v100, site);
      expect(rerun.code, `${point}: ${rerun.stderr}`).toBe(0);
      expect(rerun.stdout).toContain('Resuming the interrupted install');
      expect({ db: await schema(database), configs: await configFiles(site) }, point).toEqual(expected);
    }
  });
});

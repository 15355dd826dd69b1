/**
 * PostgreSQL on a bad day, for real: the server stopped (pg_ctl stop -m immediate) while a
 * migration runs, stopped before the install, stalled (SIGSTOP of every server process) during
 * a migration, and a refused password. Each is its own code naming the database (site name and
 * host:port, never a password) and, mid-migration, the migration file; the migration's
 * transaction holds (nothing of it applied, nothing recorded), the configs are untouched, and
 * the same install completes once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli, type CliResult } from '../support/cli.js';
import { auditLines, configFiles, exampleReleases, makeFixture, makeSite, shopVariant, type Fixture, type TestSite } from '../support/install-fixture.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const PASSWORD = 'pg-password-never-printed';
/** Probe every 0.5 s, each answer given 2 s, connecting given 1 s (the documented defaults are 10 s, 30 s, 15 s). */
const LIMITS = 'connect=1,answer=2,probe=0.5';

let pg: TestPostgres;
let fixture: Fixture;
let v100: string;
/** shop 1.1.0 plus V5, which sleeps 3 s before it creates a table. */
let slow: string;
let databases = 0;

beforeAll(async () => {
  [pg, fixture] = await Promise.all([startPostgres(), makeFixture()]);
  ({ v100 } = await exampleReleases(fixture));
  slow = await shopVariant(fixture, { migrations: { 'V5__slow_marker.sql': 'SELECT pg_sleep(3);\nCREATE TABLE slow_marker (id INTEGER PRIMARY KEY);\n' } });
});
afterAll(async () => {
  await pg?.stop();
});

async function pgSite(user = pg.user): Promise<{ site: TestSite; database: string }> {
  const database = `faults${databases++}`;
  await pg.createDatabase(database);
  const site = await makeSite(fixture, {
    databases: `    shop: { postgres: { host: ${pg.host}, port: ${pg.port}, user: ${user}, database: ${database}, passwordEnv: SHOP_DB_PASSWORD } }`,
  });
  return { site, database };
}

const install = (bundle: string, site: TestSite, password = PASSWORD): Promise<CliResult> =>
  runCli(['install', bundle, '--site', site.file, '--yes'], { env: { SHOP_DB_PASSWORD: password, AIRLOCK_DATABASE_TIMEOUTS: LIMITS } });

async function history(database: string): Promise<string[]> {
  return (await pg.psql(database, 'SELECT version || \':\' || success FROM airlock_schema_history ORDER BY installed_rank')).split('\n').filter(Boolean);
}

async function hasTable(database: string, table: string): Promise<boolean> {
  return (await pg.psql(database, `SELECT count(*) FROM pg_tables WHERE tablename = '${table}'`)) === '1';
}

/** Polls `sql` (a count) on the server until `done` says so, for 30 s at most. */
async function until(sql: string, done: (count: string) => boolean, what: string): Promise<void> {
  for (const start = Date.now(); Date.now() - start < 30_000; ) {
    if (done(await pg.psql('postgres', sql).catch(() => '0'))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting until ${what}`);
}

/** Until the installer's session runs the migration's pg_sleep. */
const untilSleeping = () =>
  until("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'airlock' AND query LIKE 'SELECT pg_sleep%'", (n) => n !== '0', 'the migration sleeps');

/** Until no session of a gone installer is left (a resumed backend notices its closed socket and ends). */
const untilNoAirlockSessions = () =>
  until("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'airlock'", (n) => n === '0', 'the failed install has no session left');

/** A site at 1.0.0 whose install of `slow` is in its sleeping migration when `fault` strikes. */
async function faultDuringMigration(fault: () => Promise<void>) {
  const { site, database } = await pgSite();
  expect((await install(v100, site)).code).toBe(0);
  const configs = await configFiles(site);
  const running = install(slow, site);
  await untilSleeping();
  await fault();
  return { site, database, configs, running };
}

function where(database: string): string {
  return `database shop (postgres ${pg.user}@${pg.host}:${pg.port}/${database})`;
}

describe('PostgreSQL goes away', () => {
  it('mid-migration: DATABASE_UNREACHABLE naming database and migration, nothing of it applied, configs untouched; the re-run completes', async () => {
    const { site, database, configs, running } = await faultDuringMigration(() => pg.crash());
    const result = await running;
    expect(result.code, result.stderr).toBe(exitCodeFor('DATABASE_UNREACHABLE'));
    expect(result.stderr).toContain(`DATABASE_UNREACHABLE: ${where(database)} went away during migration migrations/shop/V5__slow_marker.sql (`);
    expect(result.stderr).toContain('the migration was not committed, so PostgreSQL rolled it back and nothing of it was applied');
    expect(result.stderr).toContain('no config file was changed');
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    expect(result.stderr).not.toContain('INTERNAL');
    expect(await configFiles(site)).toEqual(configs);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'failed', code: 'DATABASE_UNREACHABLE' });

    await pg.start();
    // The transaction held: V5 left nothing, not even a failed row. (The test server runs with
    // synchronous_commit=off, so the crash may also have lost V4's commit; the re-run applies what is missing.)
    expect(['1:true,2:true,3:true', '1:true,2:true,3:true,4:true']).toContain((await history(database)).join(','));
    expect(await hasTable(database, 'slow_marker')).toBe(false);
    const rerun = await install(slow, site);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await history(database)).toEqual(['1:true', '2:true', '3:true', '4:true', '5:true']);
    expect(await hasTable(database, 'slow_marker')).toBe(true);
  });

  it('before the install: refused with DATABASE_UNREACHABLE (down, or not answering within the connect limit), nothing changed; then it installs', async () => {
    const { site, database } = await pgSite();
    await pg.crash();
    const down = await install(v100, site);
    await pg.start();
    expect(down.code, down.stderr).toBe(exitCodeFor('DATABASE_UNREACHABLE'));
    expect(down.stderr).toContain(`DATABASE_UNREACHABLE: ${where(database)}: cannot connect: connect ECONNREFUSED ${pg.host}:${pg.port}`);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code: 'DATABASE_UNREACHABLE' });

    await pg.pause();
    const started = Date.now();
    const stalled = await install(v100, site).finally(() => pg.resume());
    expect(stalled.code, stalled.stderr).toBe(exitCodeFor('DATABASE_UNREACHABLE'));
    expect(stalled.stderr).toContain(`DATABASE_UNREACHABLE: ${where(database)}: cannot connect: no answer within 1 s`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await configFiles(site)).toEqual({});

    const result = await install(v100, site);
    expect(result.code, result.stderr).toBe(0);
    expect(await history(database)).toEqual(['1:true', '2:true', '3:true']);
  });
});

describe('PostgreSQL stops answering', () => {
  it('mid-migration (SIGSTOP): DATABASE_UNREACHABLE within the probe and answer limits, nothing applied; after SIGCONT the re-run completes', async () => {
    const { site, database, configs, running } = await faultDuringMigration(() => pg.pause());
    const stopped = Date.now();
    const result = await running.finally(() => pg.resume());
    // One probe interval, one answer limit, and the bounded goodbye to each connection.
    expect(Date.now() - stopped).toBeLessThan(12_000);
    expect(result.code, result.stderr).toBe(exitCodeFor('DATABASE_UNREACHABLE'));
    expect(result.stderr).toContain(
      `DATABASE_UNREACHABLE: ${where(database)} stopped answering during migration migrations/shop/V5__slow_marker.sql (no answer to a liveness check within 2 s)`,
    );
    expect(result.stderr).toContain('nothing of it was applied');
    expect(await configFiles(site)).toEqual(configs);

    // The server's side of the cut connection rolls its transaction back when it notices.
    await untilNoAirlockSessions();
    expect(await history(database)).toEqual(['1:true', '2:true', '3:true', '4:true']);
    expect(await hasTable(database, 'slow_marker')).toBe(false);
    const rerun = await install(slow, site);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await history(database)).toEqual(['1:true', '2:true', '3:true', '4:true', '5:true']);
  });
});

describe('PostgreSQL refuses the login', () => {
  it('is DATABASE_AUTH naming the database and user, never the password; the right password installs', async () => {
    await pg.addPasswordUser('deployer', 'the-right-one');
    const { site, database } = await pgSite('deployer');
    const wrong = await install(v100, site, PASSWORD);
    expect(wrong.code, wrong.stderr).toBe(exitCodeFor('DATABASE_AUTH'));
    expect(wrong.stderr).toContain(`DATABASE_AUTH: database shop (postgres deployer@${pg.host}:${pg.port}/${database}) refused the login: password authentication failed for user "deployer"; check the user and the password in SHOP_DB_PASSWORD`);
    expect(wrong.stdout + wrong.stderr).not.toContain(PASSWORD);
    const right = await install(v100, site, 'the-right-one');
    expect(right.code, right.stderr).toBe(0);
  });
});

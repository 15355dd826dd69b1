/** The migration target contract against a real PostgreSQL 15, plus its advisory lock. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import { openMigrationTarget } from '../../src/install/targets/database.js';
import { migrationTargetContract } from '../support/migration-contract.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

let pg: TestPostgres;
let databases = 0;

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

async function freshPostgres() {
  const name = `contract${databases++}`;
  await pg.createDatabase(name);
  return {
    open: () => openMigrationTarget('shop', { kind: 'postgres', url: pg.url(name) }),
    tables: async () => (await pg.psql(name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).split('\n').filter(Boolean),
    history: async () =>
      (await pg.psql(name, "SELECT version || ':' || success FROM airlock_schema_history ORDER BY installed_rank")).split('\n').filter(Boolean),
  };
}

describe('PostgreSQL migration target', () => {
  migrationTargetContract(freshPostgres);

  it('keeps a second installer off the database while the first holds it', async () => {
    const db = await freshPostgres();
    const first = await db.open();
    const second = await db.open();
    try {
      await first.lock();
      const error = await second.lock().catch((e: unknown) => e);
      expect(isAirlockError(error, 'INSTALL_LOCKED')).toBe(true);
      expect((error as Error).message).toContain('database shop');
      await first.close();
      await second.lock();
    } finally {
      await second.close();
    }
  });

  it('names the database, never the password, when it cannot connect', async () => {
    process.env.AIRLOCK_TEST_PG_PASSWORD = 'pw-that-must-not-leak';
    const error = await openMigrationTarget('shop', {
      kind: 'postgres',
      host: '127.0.0.1',
      port: 1,
      user: 'app',
      database: 'shop',
      passwordEnv: 'AIRLOCK_TEST_PG_PASSWORD',
    }).catch((e: unknown) => e);
    expect(isAirlockError(error, 'DATABASE_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toContain('database shop (postgres app@127.0.0.1:1/shop)');
    expect((error as Error).message).not.toContain('pw-that-must-not-leak');
  });
});

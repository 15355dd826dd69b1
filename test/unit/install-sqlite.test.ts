import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openMigrationTarget } from '../../src/install/targets/database.js';
import { migrationTargetContract } from '../support/migration-contract.js';

async function freshSqlite() {
  const file = join(await mkdtemp(join(tmpdir(), 'airlock-sqlite-')), 'data', 'shop.db');
  const query = <T>(sql: string): T[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    file,
    open: () => openMigrationTarget('shop', { kind: 'sqlite', file }),
    tables: async () =>
      query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").map((r) => r.name),
    history: async () =>
      query<{ version: string; success: number }>('SELECT version, success FROM airlock_schema_history ORDER BY installed_rank').map(
        (r) => `${r.version}:${r.success === 1}`,
      ),
  };
}

describe('SQLite migration target', () => {
  migrationTargetContract(freshSqlite);

  it('plans without creating the database file', async () => {
    const db = await freshSqlite();
    const target = await db.open();
    expect(await target.history()).toEqual([]);
    await target.close();
    expect(existsSync(db.file)).toBe(false);
  });
});

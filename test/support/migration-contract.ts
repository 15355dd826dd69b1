/**
 * The behaviour every migration target must show, run against SQLite (unit) and a real
 * PostgreSQL (e2e): exactly-once application, a failed migration rolled back whole with a
 * failed history row, a changed checksum refused, undo scripts.
 */
import { expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import type { MigrationTarget } from '../../src/install/targets/migration-target.js';

export interface ContractDatabase {
  open(): Promise<MigrationTarget>;
  /** Names of the user tables (history table included), sorted. */
  tables(): Promise<string[]>;
  /** History rows as version:success, in installed order. */
  history(): Promise<string[]>;
}

const m = (version: string, checksum = `sum-${version}`) => ({
  version,
  description: `step ${version}`,
  path: `migrations/shop/V${version}__step.sql`,
  checksum,
});

export function migrationTargetContract(fresh: () => Promise<ContractDatabase>): void {
  it('applies each migration once, in its own transaction, with a history row', async () => {
    const db = await fresh();
    const target = await db.open();
    try {
      expect(await target.history()).toEqual([]);
      await target.lock();
      expect(await target.apply(m('1'), 'CREATE TABLE customers (id INTEGER PRIMARY KEY);', '1.0.0')).toBe(true);
      expect(await target.apply(m('2'), 'CREATE TABLE orders (id INTEGER PRIMARY KEY); CREATE INDEX orders_id ON orders (id);', '1.0.0')).toBe(true);
      // A resumed run meets a migration already applied: skipped, not run twice.
      expect(await target.apply(m('2'), 'CREATE TABLE orders (id INTEGER PRIMARY KEY);', '1.0.0')).toBe(false);
      expect((await target.history()).map((row) => [row.version, row.checksum])).toEqual([
        ['1', 'sum-1'],
        ['2', 'sum-2'],
      ]);
      expect(await db.tables()).toEqual(['airlock_schema_history', 'customers', 'orders']);
    } finally {
      await target.close();
    }
  });

  it('rolls a failing migration back whole, records the failure, and names the file and the database message', async () => {
    const db = await fresh();
    const target = await db.open();
    try {
      await target.apply(m('1'), 'CREATE TABLE customers (id INTEGER PRIMARY KEY);', '1.0.0');
      const error = await target.apply(m('2'), 'CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);', '1.1.0').catch((e: unknown) => e);
      expect(isAirlockError(error, 'MIGRATION_FAILED')).toBe(true);
      expect((error as Error).message).toContain('migrations/shop/V2__step.sql');
      expect((error as Error).message).toMatch(/no_such_table/);
      expect(await db.tables()).toEqual(['airlock_schema_history', 'customers']);
      expect(await db.history()).toEqual(['1:true', '2:false']);
      expect((await target.history()).map((row) => row.version)).toEqual(['1']);
    } finally {
      await target.close();
    }
  });

  it('refuses to treat an applied version with other content as applied', async () => {
    const db = await fresh();
    const target = await db.open();
    try {
      await target.apply(m('1'), 'CREATE TABLE customers (id INTEGER PRIMARY KEY);', '1.0.0');
      const error = await target.apply(m('1', 'other'), 'CREATE TABLE x (id INTEGER);', '1.1.0').catch((e: unknown) => e);
      expect(isAirlockError(error, 'MIGRATION_CHANGED')).toBe(true);
    } finally {
      await target.close();
    }
  });

  it('runs an undo script and forgets the migration, once', async () => {
    const db = await fresh();
    const target = await db.open();
    try {
      await target.apply(m('1'), 'CREATE TABLE customers (id INTEGER PRIMARY KEY);', '1.0.0');
      await target.apply(m('2'), 'CREATE TABLE items (id INTEGER PRIMARY KEY);', '1.1.0');
      expect(await target.undo('2', 'DROP TABLE items;', 'undo/shop/2.sql')).toBe(true);
      expect(await target.undo('2', 'DROP TABLE items;', 'undo/shop/2.sql')).toBe(false);
      expect(await db.tables()).toEqual(['airlock_schema_history', 'customers']);
      expect((await target.history()).map((row) => row.version)).toEqual(['1']);
    } finally {
      await target.close();
    }
  });
}

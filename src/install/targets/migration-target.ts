/**
 * A database that migrations run against. Implementations: PostgreSQL (pg) and SQLite
 * (better-sqlite3, loaded only when a site uses it: it is native and not inlined in the
 * bundled installer). Both keep the same history table, airlock_schema_history.
 */
import type { AppliedMigration, MigrationFile } from '../plan-pending-migrations.js';

export const HISTORY_TABLE = 'airlock_schema_history';

export interface MigrationTarget {
  readonly db: string;
  /** For people: kind and location, never a password. */
  readonly description: string;
  /** Successfully applied migrations; empty when the history table does not exist yet. Changes nothing. */
  history(): Promise<AppliedMigration[]>;
  /** Keeps other installers off this database until close(); throws INSTALL_LOCKED if one is on it. */
  lock(): Promise<void>;
  /**
   * Runs one migration and records it, in one transaction. Returns false when the history
   * already has it with this checksum (a resumed run). On failure the transaction is rolled
   * back, a failed row is recorded, and MIGRATION_FAILED names the file and the database's message.
   */
  apply(migration: MigrationFile, sql: string, bundleVersion: string): Promise<boolean>;
  /** Runs an undo script and deletes the migration's history row, in one transaction. Returns false if it was not applied. */
  undo(version: string, sql: string, file: string): Promise<boolean>;
  close(): Promise<void>;
}

export function migrationFailed(migration: { path: string }, db: string, description: string, message: string): string {
  return `${migration.path}: failed on database ${db} (${description}) and was rolled back: ${message}`;
}

/**
 * SQLite migration target (the embedded default). better-sqlite3 is native, so it is
 * imported here, lazily: the bundled installer loads it only for sites that use SQLite.
 * Each migration runs in BEGIN IMMEDIATE, which takes SQLite's write lock before the
 * history is re-read, so two installers on one file apply each migration exactly once;
 * SQLite's DDL is transactional, so a failed migration leaves only its failed history row.
 */
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { AirlockError } from '../../base/errors.js';
import type { SqliteTarget } from '../../manifest/site.js';
import { ensureDir, exists } from '../../fs/durable.js';
import type { AppliedMigration, MigrationFile } from '../plan-pending-migrations.js';
import { HISTORY_TABLE, migrationFailed, type MigrationTarget } from './migration-target.js';

type Database = BetterSqlite3.Database;

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  installed_rank INTEGER PRIMARY KEY AUTOINCREMENT,
  version TEXT NOT NULL,
  description TEXT NOT NULL,
  checksum TEXT NOT NULL,
  installed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  execution_ms INTEGER NOT NULL,
  success INTEGER NOT NULL,
  bundle_version TEXT NOT NULL
)`;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function loadDriver(db: string): Promise<typeof BetterSqlite3> {
  try {
    return (await import('better-sqlite3')).default;
  } catch (cause) {
    throw new AirlockError(
      'DATABASE_UNREACHABLE',
      `database ${db}: the SQLite driver (better-sqlite3) cannot be loaded here (${messageOf(cause)}); see docs/INSTALL.md`,
      { cause },
    );
  }
}

class SqliteMigrations implements MigrationTarget {
  readonly description: string;
  private handle: Database | undefined;

  constructor(
    readonly db: string,
    private readonly file: string,
    private readonly Driver: typeof BetterSqlite3,
  ) {
    this.description = `sqlite ${file}`;
  }

  private open(create: boolean): Database {
    if (this.handle === undefined) {
      try {
        this.handle = new this.Driver(this.file, { fileMustExist: !create });
        this.handle.pragma('busy_timeout = 10000');
      } catch (error) {
        throw new AirlockError('DATABASE_UNREACHABLE', `database ${this.db} (${this.description}): cannot open: ${messageOf(error)}`, { cause: error });
      }
    }
    return this.handle;
  }

  async history(): Promise<AppliedMigration[]> {
    // Planning must not create the database file: a missing file has no history.
    if (this.handle === undefined && !(await exists(this.file))) return [];
    const db = this.open(false);
    const table = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`).get(HISTORY_TABLE);
    if (table === undefined) return [];
    return db
      .prepare(`SELECT version, description, checksum FROM ${HISTORY_TABLE} WHERE success = 1 ORDER BY installed_rank`)
      .all() as AppliedMigration[];
  }

  async lock(): Promise<void> {
    // Nothing held across the run: BEGIN IMMEDIATE per migration serialises writers (see above).
  }

  async apply(migration: MigrationFile, sql: string, bundleVersion: string): Promise<boolean> {
    await ensureDir(dirname(this.file));
    const db = this.open(true);
    db.exec(CREATE_HISTORY);
    const started = Date.now();
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = db.prepare(`SELECT checksum FROM ${HISTORY_TABLE} WHERE version = ? AND success = 1`).get(migration.version) as
        | { checksum: string }
        | undefined;
      if (row !== undefined) {
        db.exec('ROLLBACK');
        if (row.checksum === migration.checksum) return false;
        throw new AirlockError('MIGRATION_CHANGED', `${migration.path}: migration ${migration.version} was applied to database ${this.db} with other content`);
      }
      db.exec(sql);
      this.record(db, migration, bundleVersion, Date.now() - started, true);
      db.exec('COMMIT');
      return true;
    } catch (error) {
      if (error instanceof AirlockError) throw error;
      if (db.inTransaction) db.exec('ROLLBACK');
      this.record(db, migration, bundleVersion, Date.now() - started, false);
      throw new AirlockError('MIGRATION_FAILED', migrationFailed(migration, this.db, this.description, messageOf(error)), { cause: error });
    }
  }

  private record(db: Database, migration: MigrationFile, bundleVersion: string, ms: number, success: boolean): void {
    db.prepare(
      `INSERT INTO ${HISTORY_TABLE} (version, description, checksum, execution_ms, success, bundle_version) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(migration.version, migration.description, migration.checksum, ms, success ? 1 : 0, bundleVersion);
  }

  async undo(version: string, sql: string, file: string): Promise<boolean> {
    const db = this.open(false);
    db.exec('BEGIN IMMEDIATE');
    try {
      const deleted = db.prepare(`DELETE FROM ${HISTORY_TABLE} WHERE version = ? AND success = 1`).run(version);
      if (deleted.changes === 0) {
        db.exec('ROLLBACK');
        return false;
      }
      db.exec(sql);
      db.exec('COMMIT');
      return true;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new AirlockError('MIGRATION_FAILED', `${file}: undo failed on database ${this.db} (${this.description}) and was rolled back: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    this.handle?.close();
    this.handle = undefined;
  }
}

export async function openSqlite(db: string, target: SqliteTarget): Promise<MigrationTarget> {
  return new SqliteMigrations(db, target.file, await loadDriver(db));
}

/**
 * PostgreSQL migration target. One connection for the whole run: it holds a session-level
 * advisory lock (released by PostgreSQL if the installer dies), and every migration runs in
 * its own transaction together with its history row, so a migration is applied exactly once
 * or not at all. PostgreSQL's DDL is transactional, so a failed migration leaves no trace
 * but its failed history row.
 */
import pg from 'pg';
import { AirlockError } from '../../base/errors.js';
import type { PostgresTarget } from '../../manifest/site.js';
import type { AppliedMigration, MigrationFile } from '../plan-pending-migrations.js';
import { HISTORY_TABLE, migrationFailed, type MigrationTarget } from './migration-target.js';

// Two 32-bit keys of our own ('airl', 'ock1') so no application lock can collide by accident.
const LOCK_KEYS = [0x6169726c, 0x6f636b31] as const;

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  installed_rank SERIAL PRIMARY KEY,
  version TEXT NOT NULL,
  description TEXT NOT NULL,
  checksum TEXT NOT NULL,
  installed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  execution_ms INTEGER NOT NULL,
  success BOOLEAN NOT NULL,
  bundle_version TEXT NOT NULL
)`;

function connectionConfig(target: PostgresTarget): pg.ClientConfig {
  const password = target.passwordEnv === undefined ? undefined : process.env[target.passwordEnv];
  if (target.passwordEnv !== undefined && password === undefined) {
    throw new AirlockError('VARIABLE_MISSING', `environment variable ${target.passwordEnv} (the database password named by passwordEnv) is not set`);
  }
  return {
    ...(target.url === undefined ? {} : { connectionString: target.url }),
    ...(target.host === undefined ? {} : { host: target.host }),
    ...(target.port === undefined ? {} : { port: target.port }),
    ...(target.user === undefined ? {} : { user: target.user }),
    ...(target.database === undefined ? {} : { database: target.database }),
    ...(password === undefined ? {} : { password }),
    connectionTimeoutMillis: 15_000,
    application_name: 'airlock',
  };
}

function describe(target: PostgresTarget): string {
  if (target.url !== undefined) {
    const url = new URL(target.url);
    url.password = '';
    return `postgres ${url.toString()}`;
  }
  return `postgres ${target.user ?? ''}${target.user ? '@' : ''}${target.host ?? 'localhost'}:${target.port ?? 5432}/${target.database ?? ''}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class PostgresMigrations implements MigrationTarget {
  readonly description: string;
  private locked = false;

  constructor(
    readonly db: string,
    target: PostgresTarget,
    private readonly client: pg.Client,
  ) {
    this.description = describe(target);
  }

  async history(): Promise<AppliedMigration[]> {
    const exists = await this.client.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [HISTORY_TABLE]);
    if (exists.rows[0]?.table == null) return [];
    const rows = await this.client.query<AppliedMigration>(
      `SELECT version, description, checksum FROM ${HISTORY_TABLE} WHERE success ORDER BY installed_rank`,
    );
    return rows.rows;
  }

  async lock(): Promise<void> {
    const result = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...LOCK_KEYS]);
    if (result.rows[0]?.locked !== true) {
      throw new AirlockError('INSTALL_LOCKED', `database ${this.db} (${this.description}): another airlock installer is migrating it (advisory lock held)`);
    }
    this.locked = true;
  }

  async apply(migration: MigrationFile, sql: string, bundleVersion: string): Promise<boolean> {
    await this.client.query(CREATE_HISTORY);
    await this.client.query('BEGIN');
    const started = Date.now();
    try {
      const row = await this.client.query<{ checksum: string }>(`SELECT checksum FROM ${HISTORY_TABLE} WHERE version = $1 AND success`, [migration.version]);
      if (row.rows[0] !== undefined) {
        await this.client.query('ROLLBACK');
        if (row.rows[0].checksum === migration.checksum) return false;
        throw new AirlockError('MIGRATION_CHANGED', `${migration.path}: migration ${migration.version} was applied to database ${this.db} with other content`);
      }
      await this.client.query(sql);
      await this.record(migration, bundleVersion, Date.now() - started, true);
      await this.client.query('COMMIT');
      return true;
    } catch (error) {
      if (error instanceof AirlockError) throw error;
      await this.client.query('ROLLBACK');
      await this.record(migration, bundleVersion, Date.now() - started, false);
      throw new AirlockError('MIGRATION_FAILED', migrationFailed(migration, this.db, this.description, messageOf(error)), { cause: error });
    }
  }

  private async record(migration: MigrationFile, bundleVersion: string, ms: number, success: boolean): Promise<void> {
    await this.client.query(
      `INSERT INTO ${HISTORY_TABLE} (version, description, checksum, execution_ms, success, bundle_version) VALUES ($1, $2, $3, $4, $5, $6)`,
      [migration.version, migration.description, migration.checksum, ms, success, bundleVersion],
    );
  }

  async undo(version: string, sql: string, file: string): Promise<boolean> {
    await this.client.query('BEGIN');
    try {
      const deleted = await this.client.query(`DELETE FROM ${HISTORY_TABLE} WHERE version = $1 AND success`, [version]);
      if (deleted.rowCount === 0) {
        await this.client.query('ROLLBACK');
        return false;
      }
      await this.client.query(sql);
      await this.client.query('COMMIT');
      return true;
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw new AirlockError('MIGRATION_FAILED', `${file}: undo failed on database ${this.db} (${this.description}) and was rolled back: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    if (this.locked) await this.client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]).catch(() => undefined);
    await this.client.end();
  }
}

export async function openPostgres(db: string, target: PostgresTarget): Promise<MigrationTarget> {
  const client = new pg.Client(connectionConfig(target));
  // An idle connection that drops (server restart) must fail the next query, not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new AirlockError('DATABASE_UNREACHABLE', `database ${db} (${describe(target)}): cannot connect: ${messageOf(error)}`, { cause: error });
  }
  return new PostgresMigrations(db, target, client);
}

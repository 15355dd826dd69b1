/**
 * PostgreSQL migration target. One connection for the whole run: it holds a session-level
 * advisory lock (released by PostgreSQL if the installer dies), and every migration runs in
 * its own transaction together with its history row, so a migration is applied exactly once
 * or not at all. PostgreSQL's DDL is transactional, so a failed migration leaves no trace
 * but its failed history row.
 *
 * A server that goes away or stops answering is DATABASE_UNREACHABLE naming the database and
 * the migration, never a crash: airlock's own statements are each given a time limit, and while
 * a migration runs (which may rightly take long) a second connection asks the server every few
 * seconds whether it still answers. A migration whose connection is lost was not committed, so
 * PostgreSQL has rolled it back, and the re-run applies it.
 */
import pg from 'pg';
import { AirlockError } from '../../base/errors.js';
import { seconds, timeLimits } from '../../base/time-limits.js';
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

/** The documented defaults (docs/INSTALL.md#faults), in milliseconds; AIRLOCK_DATABASE_TIMEOUTS changes them. */
export const DATABASE_LIMITS = { connect: 15_000, answer: 30_000, probe: 10_000 };
type DatabaseLimits = typeof DATABASE_LIMITS;

/** Errors that mean the connection, not the SQL, failed: the server shut down, crashed, or the socket broke. */
const LOST_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const LOST_MESSAGES = /Connection terminated|connection error|Query read timeout|timeout expired|not queryable/i;

function isLost(error: unknown): boolean {
  if (error instanceof AirlockError || !(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (LOST_CODES.has(code) || code.startsWith('08'))) return true;
  return LOST_MESSAGES.test(error.message);
}

/** 28P01 invalid_password, 28000 invalid_authorization_specification (no pg_hba entry, or the role may not log in). */
function isAuthFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '28P01' || code === '28000';
}

type Statement = pg.QueryConfig & { query_timeout?: number };

function connectionConfig(target: PostgresTarget, limits: DatabaseLimits): pg.ClientConfig {
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
    connectionTimeoutMillis: limits.connect,
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
  /** Set once the server is known gone: every later call fails with it at once. */
  private lost: AirlockError | undefined;

  constructor(
    readonly db: string,
    target: PostgresTarget,
    private readonly client: pg.Client,
    /** Asks whether the server still answers while a migration runs. */
    private readonly probe: pg.Client,
    private readonly limits: DatabaseLimits,
  ) {
    this.description = describe(target);
  }

  private where(): string {
    return `database ${this.db} (${this.description})`;
  }

  /** The connection failed: DATABASE_UNREACHABLE saying during what; the connection is closed for good. */
  private unreachable(error: unknown, during: string, outcome: string): AirlockError {
    const stalled = /^no answer/.test(messageOf(error));
    this.lost ??= new AirlockError('DATABASE_UNREACHABLE', `${this.where()} ${stalled ? 'stopped answering' : 'went away'} ${during} (${messageOf(error)})${outcome}`, { cause: error });
    // A stream that is still open (the server stopped answering) is cut, so nothing of this run can commit later.
    this.client.connection.stream.destroy();
    return this.lost;
  }

  /** One of airlock's own short statements, given the answer limit. */
  private async statement<R extends pg.QueryResultRow>(text: string, values: unknown[], during: string, outcome = ''): Promise<pg.QueryResult<R>> {
    if (this.lost) throw this.lost;
    const statement: Statement = { text, values, query_timeout: this.limits.answer };
    try {
      return await this.client.query<R>(statement);
    } catch (error) {
      if (!isLost(error)) throw error;
      throw this.unreachable(messageOf(error) === 'Query read timeout' ? new Error(`no answer within ${seconds(this.limits.answer)}`) : error, during, outcome);
    }
  }

  /**
   * A migration's SQL, without a time limit of its own (it may rightly take hours), while the
   * probe connection checks every few seconds that the server answers. When it does not, the
   * migration's connection is cut: the migration was not committed, so nothing of it stays.
   */
  private async watched(sql: string, during: string, outcome: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const stalled = new Promise<never>((_, reject) => {
      const check = async (): Promise<void> => {
        try {
          await this.probe.query({ text: 'SELECT 1', query_timeout: this.limits.answer } as Statement);
        } catch (error) {
          if (!done) {
            const why = /timeout/i.test(messageOf(error)) ? new Error(`no answer to a liveness check within ${seconds(this.limits.answer)}`) : error;
            reject(this.unreachable(why, during, outcome));
          }
          return;
        }
        if (!done) timer = setTimeout(() => void check(), this.limits.probe);
      };
      timer = setTimeout(() => void check(), this.limits.probe);
    });
    stalled.catch(() => undefined);
    try {
      await Promise.race([this.client.query(sql), stalled]);
    } catch (error) {
      throw isLost(error) ? this.unreachable(error, during, outcome) : error;
    } finally {
      done = true;
      clearTimeout(timer);
    }
  }

  async history(): Promise<AppliedMigration[]> {
    const during = 'while its migration history was read';
    const exists = await this.statement<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [HISTORY_TABLE], during);
    if (exists.rows[0]?.table == null) return [];
    const rows = await this.statement<AppliedMigration>(`SELECT version, description, checksum FROM ${HISTORY_TABLE} WHERE success ORDER BY installed_rank`, [], during);
    return rows.rows;
  }

  async lock(): Promise<void> {
    const result = await this.statement<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...LOCK_KEYS], 'while airlock took its lock');
    if (result.rows[0]?.locked !== true) {
      throw new AirlockError('INSTALL_LOCKED', `${this.where()}: another airlock installer is migrating it (advisory lock held)`);
    }
    this.locked = true;
  }

  async apply(migration: MigrationFile, sql: string, bundleVersion: string): Promise<boolean> {
    const during = `during migration ${migration.path}`;
    const notApplied = `; the migration was not committed, so PostgreSQL rolled it back and nothing of it was applied: run the install again once the database answers`;
    await this.statement(CREATE_HISTORY, [], during, notApplied);
    await this.statement('BEGIN', [], during, notApplied);
    const started = Date.now();
    try {
      const row = await this.statement<{ checksum: string }>(`SELECT checksum FROM ${HISTORY_TABLE} WHERE version = $1 AND success`, [migration.version], during, notApplied);
      if (row.rows[0] !== undefined) {
        await this.statement('ROLLBACK', [], during);
        if (row.rows[0].checksum === migration.checksum) return false;
        throw new AirlockError('MIGRATION_CHANGED', `${migration.path}: migration ${migration.version} was applied to database ${this.db} with other content`);
      }
      await this.watched(sql, during, notApplied);
      await this.record(migration, bundleVersion, Date.now() - started, true, during, notApplied);
      // Lost during COMMIT, the outcome is unknown here; the history row shares the transaction, so the re-run reads it.
      await this.statement('COMMIT', [], `while committing migration ${migration.path}`, `; whether it was committed is in ${HISTORY_TABLE}, which the re-run reads: run the install again once the database answers`);
      return true;
    } catch (error) {
      if (error instanceof AirlockError) throw error;
      await this.statement('ROLLBACK', [], during, notApplied);
      await this.record(migration, bundleVersion, Date.now() - started, false, during, '; the migration had failed and was rolled back');
      throw new AirlockError('MIGRATION_FAILED', migrationFailed(migration, this.db, this.description, messageOf(error)), { cause: error });
    }
  }

  private async record(migration: MigrationFile, bundleVersion: string, ms: number, success: boolean, during: string, outcome: string): Promise<void> {
    await this.statement(
      `INSERT INTO ${HISTORY_TABLE} (version, description, checksum, execution_ms, success, bundle_version) VALUES ($1, $2, $3, $4, $5, $6)`,
      [migration.version, migration.description, migration.checksum, ms, success, bundleVersion],
      during,
      outcome,
    );
  }

  async undo(version: string, sql: string, file: string): Promise<boolean> {
    const during = `during the undo script ${file}`;
    const notUndone = '; the undo was not committed, so nothing of it was applied: run the rollback again once the database answers';
    await this.statement('BEGIN', [], during, notUndone);
    try {
      const deleted = await this.statement(`DELETE FROM ${HISTORY_TABLE} WHERE version = $1 AND success`, [version], during, notUndone);
      if (deleted.rowCount === 0) {
        await this.statement('ROLLBACK', [], during);
        return false;
      }
      await this.watched(sql, during, notUndone);
      await this.statement('COMMIT', [], `while committing the undo script ${file}`, `; whether it was committed shows in ${HISTORY_TABLE}: run the rollback again once the database answers`);
      return true;
    } catch (error) {
      if (error instanceof AirlockError) throw error;
      await this.statement('ROLLBACK', [], during, notUndone);
      throw new AirlockError('MIGRATION_FAILED', `${file}: undo failed on ${this.where()} and was rolled back: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    if (this.locked && !this.lost) await this.statement('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS], 'while airlock released its lock').catch(() => undefined);
    await Promise.all([endBounded(this.client, this.limits.answer), endBounded(this.probe, this.limits.answer)]);
  }
}

/** Ends a connection, cutting it if the server does not take the goodbye in time (it may have stopped). */
async function endBounded(client: pg.Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.connection.stream.destroy();
      resolve();
    }, ms);
  });
  try {
    await Promise.race([client.end().catch(() => undefined), cut]);
  } finally {
    clearTimeout(timer);
  }
}

async function connect(db: string, target: PostgresTarget, limits: DatabaseLimits): Promise<pg.Client> {
  const client = new pg.Client(connectionConfig(target, limits));
  // An idle connection that drops (server restart) must fail the next query, not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await endBounded(client, limits.answer);
    if (isAuthFailure(error)) {
      const password = target.passwordEnv === undefined ? ' (no passwordEnv is set, so no password was sent)' : ` and the password in ${target.passwordEnv}`;
      throw new AirlockError('DATABASE_AUTH', `database ${db} (${describe(target)}) refused the login: ${messageOf(error)}; check the user${password}`, { cause: error });
    }
    const why = /timeout expired/.test(messageOf(error)) ? `no answer within ${seconds(limits.connect)}` : messageOf(error);
    throw new AirlockError('DATABASE_UNREACHABLE', `database ${db} (${describe(target)}): cannot connect: ${why}`, { cause: error });
  }
}

export async function openPostgres(db: string, target: PostgresTarget): Promise<MigrationTarget> {
  const limits = timeLimits('AIRLOCK_DATABASE_TIMEOUTS', DATABASE_LIMITS);
  const client = await connect(db, target, limits);
  try {
    return new PostgresMigrations(db, target, client, await connect(db, target, limits), limits);
  } catch (error) {
    await endBounded(client, limits.answer);
    throw error;
  }
}

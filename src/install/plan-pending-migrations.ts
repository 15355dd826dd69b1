/**
 * Flyway's rules over a bundle's migrations and a database's history, as a pure function:
 * what is pending (in version order), and what must stop the install before anything runs:
 * an applied migration whose bytes changed, or a new migration older than one applied.
 */
import { AirlockError } from '../base/errors.js';
import { compareMigrationVersions } from '../manifest/release-migrations.js';

export interface MigrationFile {
  version: string;
  description: string;
  /** Path inside the bundle. */
  path: string;
  /** sha256 hex from the verified SHA256SUMS. */
  checksum: string;
}

export interface AppliedMigration {
  version: string;
  description: string;
  checksum: string;
}

export interface MigrationPlan {
  db: string;
  pending: MigrationFile[];
  applied: number;
  /** Versions the database has applied that this bundle no longer carries (reported, not fatal). */
  unknown: string[];
}

export function planPendingMigrations(db: string, files: readonly MigrationFile[], history: readonly AppliedMigration[]): MigrationPlan {
  const applied = new Map(history.map((row) => [row.version, row]));
  const pending: MigrationFile[] = [];
  for (const file of [...files].sort((a, b) => compareMigrationVersions(a.version, b.version))) {
    const row = applied.get(file.version);
    if (row === undefined) pending.push(file);
    else if (row.checksum !== file.checksum) {
      throw new AirlockError(
        'MIGRATION_CHANGED',
        `${file.path}: migration ${file.version} was applied to database ${db} with checksum ${row.checksum.slice(0, 12)}…, ` +
          `but this bundle's file has ${file.checksum.slice(0, 12)}…: an applied migration must never be edited; ship a new one`,
      );
    }
  }
  const latest = history.map((row) => row.version).sort(compareMigrationVersions).at(-1);
  const early = latest === undefined ? undefined : pending.find((file) => compareMigrationVersions(file.version, latest) < 0);
  if (early && latest !== undefined) {
    throw new AirlockError(
      'MIGRATION_CHANGED',
      `${early.path}: migration ${early.version} is new, but database ${db} already has version ${latest}: migrations run in version order only; give it a version above ${latest}`,
    );
  }
  const known = new Set(files.map((file) => file.version));
  const unknown = history.map((row) => row.version).filter((version) => !known.has(version));
  return { db, pending, applied: history.length, unknown };
}

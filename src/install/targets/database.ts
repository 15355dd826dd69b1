/** Opens the migration target a site names: PostgreSQL, or SQLite (its native driver loaded only then). */
import type { DatabaseTarget } from '../../manifest/site.js';
import type { MigrationTarget } from './migration-target.js';

export async function openMigrationTarget(db: string, target: DatabaseTarget): Promise<MigrationTarget> {
  if (target.kind === 'postgres') {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(db, target);
  }
  const { openSqlite } = await import('./sqlite.js');
  return openSqlite(db, target);
}

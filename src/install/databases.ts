/** The site's databases a run uses, each opened (and locked against other installers) once, all closed at the end. */
import { AirlockError } from '../base/errors.js';
import type { Site } from '../manifest/site.js';
import { openMigrationTarget } from './targets/database.js';
import type { MigrationTarget } from './targets/migration-target.js';

export class Databases {
  private readonly open = new Map<string, MigrationTarget>();

  constructor(private readonly site: Site) {}

  /** Refuses a release that migrates a database the site file does not name, before anything is opened. */
  static check(site: Site, dbs: Iterable<string>): void {
    for (const db of dbs) {
      if (!site.databases.has(db)) {
        throw new AirlockError('SITE_INVALID', `${site.file}: the bundle has migrations for database ${db}, but targets.databases has no ${db}`);
      }
    }
  }

  /** `lock`: keep other installers off it until close() (a plan-only run only reads). */
  async get(db: string, options: { lock: boolean }): Promise<MigrationTarget> {
    const opened = this.open.get(db);
    if (opened) return opened;
    const where = this.site.databases.get(db);
    if (where === undefined) throw new AirlockError('SITE_INVALID', `${this.site.file}: targets.databases has no ${db}`);
    const target = await openMigrationTarget(db, where);
    this.open.set(db, target);
    if (options.lock) await target.lock();
    return target;
  }

  async close(): Promise<void> {
    for (const db of this.open.values()) await db.close().catch(() => undefined);
  }
}

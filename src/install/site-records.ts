/**
 * What a site has recorded, read once at the start of a run (under the site lock) and passed
 * down: state.json, the journal of an unfinished or unarchived run, and the audit log. Writes of
 * the run go through here too, so what the run knows stays what is on disk.
 */
import type { Site } from '../manifest/site.js';
import { AuditLog } from './audit.js';
import type { InstalledRelease } from './checks.js';
import { siteHighest } from './highest.js';
import { readJournal, type RunSummary } from './journal.js';
import { readState, statePaths, writeState, type SiteState } from './state.js';

export class SiteRecords {
  private constructor(
    readonly site: Site,
    private current: SiteState,
    /** The run journal.jsonl holds, if any (finished runs are archived by the next run). */
    public journal: RunSummary | undefined,
    readonly audit: AuditLog,
  ) {}

  static async read(site: Site): Promise<SiteRecords> {
    return new SiteRecords(site, await readState(site.stateDir, site), readJournal(statePaths(site.stateDir).journal), AuditLog.read(site.stateDir));
  }

  get state(): SiteState {
    return this.current;
  }

  async writeState(state: SiteState): Promise<void> {
    await writeState(this.site.stateDir, state);
    this.current = state;
  }

  /** The highest version ever installed here (rollback protection). */
  highest(): InstalledRelease | undefined {
    return siteHighest(this.current, this.audit.entries);
  }
}

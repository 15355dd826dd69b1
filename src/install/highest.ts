/**
 * Rollback protection's high-water mark: the highest release version ever installed on the
 * site, kept in state.json (`highest`). Raised whenever an install is recorded (its release
 * goes onto the state's stack); never lowered, neither by `airlock rollback` nor by an
 * `--allow-downgrade` install. A state file written before the mark existed gets it from
 * what the site recorded until then: the release stack, and the audit log's installs that
 * left their release in place, which still name releases a rollback took off the stack.
 */
import type { AuditEntry } from './audit.js';
import { highestOf, type InstalledRelease } from './checks.js';
import { currentRelease, type SiteState } from './state.js';

export function siteHighest(state: SiteState, audit: readonly AuditEntry[]): InstalledRelease | undefined {
  if (state.highest !== undefined) return state.highest;
  const installed = audit.flatMap((entry) =>
    entry.action === 'install' && (entry.outcome === 'succeeded' || entry.outcome === 'unhealthy') && entry.release ? [entry.release] : [],
  );
  const line = currentRelease(state)?.name;
  return highestOf([...state.releases, ...installed].filter((release) => line === undefined || release.name === line));
}

/** The mark with this release counted, for the state written when it is recorded. */
export function raiseHighest(state: SiteState, audit: readonly AuditEntry[], release: InstalledRelease): InstalledRelease {
  return highestOf([siteHighest(state, audit), release]) ?? release;
}

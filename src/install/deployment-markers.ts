/**
 * Deployment markers: every audited run (install, rollback, refusal) rewrites the site's
 * series in node_exporter's textfile directory (`telemetry.textfile`) and pushes them to a
 * Pushgateway (`telemetry.pushgateway`), just before its audit line is written. The series
 * come from the site's records on disk (state.json, the audit log with the new line), not from
 * this process's memory: counters persist across runs and crashes, and a run refused while
 * another holds the site lock counts what the other has recorded.
 *
 * Markers never fail a run: an install that succeeded stays succeeded when the textfile
 * directory is missing or the Pushgateway is down. Each such problem is a warning on stderr and
 * is recorded in the run's audit line (`telemetry`), so the gap in the graphs is explained.
 */
import type { Site } from '../manifest/site.js';
import { renderExposition } from '../telemetry/exposition.js';
import { resolveEndpoint, telemetryLimits } from '../telemetry/http.js';
import { markerFamilies, type MarkerFacts } from '../telemetry/marker-series.js';
import { pushMarkers } from '../telemetry/pushgateway.js';
import { writeTextfile } from '../telemetry/textfile.js';
import type { Output } from '../ui/output.js';
import { AUDIT_OUTCOMES, AuditLog, type AuditEntry, type AuditObserver } from './audit.js';
import { currentRelease, readState, type SiteState } from './state.js';

const ROLLBACK_OUTCOMES = ['succeeded', 'failed'] as const;

function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

function countByOutcome(entries: readonly AuditEntry[], action: AuditEntry['action'], outcomes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(outcomes.map((outcome) => [outcome, 0]));
  for (const entry of entries) if (entry.action === action) counts[entry.outcome] = (counts[entry.outcome] ?? 0) + 1;
  return counts;
}

/** The facts the series are drawn from: the state, and the audit log ending with `last`. */
export function markerFacts(site: Pick<Site, 'site'>, state: SiteState, entries: readonly AuditEntry[]): MarkerFacts {
  const installed = currentRelease(state);
  const last = entries.at(-1);
  const gated = [...entries].reverse().find((entry) => entry.action === 'install' && (entry.gates?.length ?? 0) > 0);
  return {
    site: site.site,
    ...(installed ? { installed: { release: installed.name, version: installed.version, contentDigest: installed.bundleDigest } } : {}),
    ...(last
      ? {
          lastRun: {
            action: last.action,
            outcome: last.outcome,
            ...(last.release ? { release: last.release } : {}),
            at: seconds(last.at),
            ...(last.startedAt === undefined ? {} : { durationSeconds: Math.max(0, Math.round((seconds(last.at) - seconds(last.startedAt)) * 1000) / 1000) }),
          },
        }
      : {}),
    ...(gated?.release && gated.gates ? { gates: { release: gated.release, results: gated.gates } } : {}),
    installs: countByOutcome(entries, 'install', AUDIT_OUTCOMES),
    rollbacks: countByOutcome(entries, 'rollback', ROLLBACK_OUTCOMES),
    outcomes: AUDIT_OUTCOMES,
  };
}

function problem(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The observer that publishes a site's markers with each audit line; undefined when the site asks for none. */
export function markerPublisher(site: Site, output: Output): AuditObserver | undefined {
  const { textfile, pushgateway } = site.telemetry;
  if (textfile === undefined && pushgateway === undefined) return undefined;
  return async (entry) => {
    const warnings: string[] = [];
    let text: string | undefined;
    try {
      const state = await readState(site.stateDir, site);
      text = renderExposition(markerFamilies(markerFacts(site, state, [...AuditLog.read(site.stateDir).entries, entry])));
    } catch (error) {
      warnings.push(`the site's records could not be read for the deployment markers: ${problem(error)}`);
    }
    if (text !== undefined && textfile !== undefined) {
      await writeTextfile(textfile, text).catch((error: unknown) => warnings.push(`textfile ${textfile}: ${problem(error)}`));
    }
    if (text !== undefined && pushgateway !== undefined) {
      const body = text;
      await Promise.resolve()
        .then(() => pushMarkers(resolveEndpoint(pushgateway, 'telemetry.pushgateway', site.file), site.site, body, telemetryLimits().pushMs))
        .catch((error: unknown) => warnings.push(`pushgateway: ${problem(error)}`));
    }
    for (const warning of warnings) output.warn(`airlock: WARNING: deployment markers not published: ${warning} (recorded in the audit log; the run's outcome stands)`);
    return warnings.length === 0 ? {} : { telemetry: warnings };
  };
}

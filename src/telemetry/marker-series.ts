/**
 * The deployment markers: what a site's monitoring sees of airlock, as metric families. The
 * installed release as an info series (`airlock_release_info{site,release,version,content_digest} 1`),
 * the last run (its time, with action, outcome and release as labels, so a Grafana annotation
 * can draw it; its duration; its outcome as a 0/1 series per outcome), the health gates of the
 * last install that ran any, and the counters of installs and rollbacks by outcome. Pure: the
 * facts come from the site's records (the counters from the audit log, so they persist and
 * survive any crash), not from memory.
 */
import type { GateSummary } from './gate-result.js';
import type { MetricFamily } from './exposition.js';

export interface MarkerFacts {
  site: string;
  installed?: { release: string; version: string; contentDigest: string };
  lastRun?: {
    action: string;
    outcome: string;
    release?: { name: string; version: string };
    /** Unix seconds. */
    at: number;
    durationSeconds?: number;
  };
  /** The gates of the last install that ran any, and its release. */
  gates?: { release: { name: string; version: string }; results: readonly GateSummary[] };
  /** Runs by outcome; every outcome that can occur is listed, 0 included, so rate() and increase() see a counter from its first scrape. */
  installs: Readonly<Record<string, number>>;
  rollbacks: Readonly<Record<string, number>>;
  /** Every outcome a run can have, for airlock_last_run_outcome. */
  outcomes: readonly string[];
}

export function markerFamilies(facts: MarkerFacts): MetricFamily[] {
  const site = facts.site;
  const last = facts.lastRun;
  const gates = facts.gates;
  const gateLabels = (gate: GateSummary) => ({ site, release: gates!.release.name, version: gates!.release.version, gate: gate.name });
  return [
    {
      name: 'airlock_release_info',
      help: 'The release installed on the site (1 while it is installed).',
      type: 'gauge',
      series: facts.installed
        ? [{ labels: { site, release: facts.installed.release, version: facts.installed.version, content_digest: facts.installed.contentDigest }, value: 1 }]
        : [],
    },
    {
      name: 'airlock_last_run_timestamp_seconds',
      help: 'When the last airlock run (install, rollback or refusal) on the site ended, with what it was and how it ended.',
      type: 'gauge',
      series: last
        ? [{ labels: { site, action: last.action, outcome: last.outcome, release: last.release?.name ?? '', version: last.release?.version ?? '' }, value: last.at }]
        : [],
    },
    {
      name: 'airlock_last_run_duration_seconds',
      help: 'How long the last airlock run on the site took, from its start (a resumed run: from when it first began).',
      type: 'gauge',
      series: last?.durationSeconds === undefined ? [] : [{ labels: { site }, value: last.durationSeconds }],
    },
    {
      name: 'airlock_last_run_outcome',
      help: 'How the last airlock run on the site ended: 1 for its outcome, 0 for the others.',
      type: 'gauge',
      series: last ? facts.outcomes.map((outcome) => ({ labels: { site, outcome }, value: outcome === last.outcome ? 1 : 0 })) : [],
    },
    {
      name: 'airlock_health_gate_passed',
      help: 'Health gates of the last install that ran any: 1 passed, 0 failed.',
      type: 'gauge',
      series: gates ? gates.results.map((gate) => ({ labels: gateLabels(gate), value: gate.verdict === 'passed' ? 1 : 0 })) : [],
    },
    {
      name: 'airlock_health_gate_value',
      help: "The last value a health gate's query gave.",
      type: 'gauge',
      series: gates ? gates.results.flatMap((gate) => (gate.observed.last === undefined ? [] : [{ labels: gateLabels(gate), value: gate.observed.last }])) : [],
    },
    {
      name: 'airlock_health_gate_before',
      help: "A noWorseThan gate's baseline: its query's value just before the install.",
      type: 'gauge',
      series: gates ? gates.results.flatMap((gate) => (gate.before === undefined ? [] : [{ labels: gateLabels(gate), value: gate.before.value }])) : [],
    },
    {
      name: 'airlock_installs_total',
      help: 'Install runs on the site by outcome (from its audit log).',
      type: 'counter',
      series: Object.entries(facts.installs).map(([outcome, count]) => ({ labels: { site, outcome }, value: count })),
    },
    {
      name: 'airlock_rollbacks_total',
      help: 'airlock rollback runs on the site by outcome (from its audit log); rollbacks after a failed health check count as installs with outcome rolled-back.',
      type: 'counter',
      series: Object.entries(facts.rollbacks).map(([outcome, count]) => ({ labels: { site, outcome }, value: count })),
    },
  ];
}

/**
 * The deployment markers as text: drawn from the state and the audit log (counters persist
 * because they are counted from the log, zero included), written in the exposition format that
 * Prometheus' own promtool accepts, whatever the label values hold.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/install/audit.js';
import { markerFacts } from '../../src/install/deployment-markers.js';
import type { SiteState } from '../../src/install/state.js';
import { renderExposition, type MetricFamily } from '../../src/telemetry/exposition.js';
import { markerFamilies } from '../../src/telemetry/marker-series.js';

const DIGEST = 'ab'.repeat(32);

function state(versions: string[]): SiteState {
  return {
    format: 'airlock-state/v1',
    site: 'plant-a',
    environment: 'prod',
    releases: versions.map((version, index) => ({
      installId: `i${index}`,
      name: 'shop',
      version,
      bundleDigest: DIGEST,
      bundleFile: 'x.airlock',
      signers: [],
      installedAt: '2026-01-01T00:00:00Z',
      installedBy: 'root',
      host: 'h',
      health: 'none',
      configs: {},
      images: [],
      migrations: {},
      receipt: 'r.json',
    })),
  };
}

function entry(action: AuditEntry['action'], outcome: AuditEntry['outcome'], fields: Partial<AuditEntry> = {}): AuditEntry {
  return { at: '2026-01-01T10:00:05.500Z', action, outcome, site: 'plant-a', environment: 'prod', user: 'root', host: 'h', signers: [], overrides: [], ...fields };
}

const gateSummary = { name: 'errors', query: 'up', condition: 'below 1', prometheus: 'http://p', verdict: 'failed' as const, reason: 'r', observed: { count: 2, last: 3 }, startedAt: 'a', finishedAt: 'b' };

async function promtool(text: string): Promise<{ code: number; output: string }> {
  const result = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  return { code: result.exitCode ?? -1, output: `${result.stdout}${result.stderr}` };
}

describe('deployment markers', () => {
  it('count installs and rollbacks from the audit log by outcome, zeros included, and describe the last run and the last gates', () => {
    const entries = [
      entry('install', 'succeeded', { release: { name: 'shop', version: '1.0.0' } }),
      entry('install', 'rolled-back', { release: { name: 'shop', version: '1.1.0' }, gates: [gateSummary] }),
      entry('install', 'refused', { code: 'DOWNGRADE' }),
      entry('install', 'succeeded', { release: { name: 'shop', version: '1.2.0' } }),
      entry('rollback', 'succeeded', { release: { name: 'shop', version: '1.2.0' }, startedAt: '2026-01-01T10:00:04.250Z' }),
    ];
    const facts = markerFacts({ site: 'plant-a' }, state(['1.0.0']), entries);
    expect(facts.installs).toEqual({ succeeded: 2, failed: 0, 'rolled-back': 1, unhealthy: 0, refused: 1, aborted: 0 });
    expect(facts.rollbacks).toEqual({ succeeded: 1, failed: 0 });
    expect(facts.installed).toEqual({ release: 'shop', version: '1.0.0', contentDigest: DIGEST });
    expect(facts.lastRun).toEqual({ action: 'rollback', outcome: 'succeeded', release: { name: 'shop', version: '1.2.0' }, at: Date.parse('2026-01-01T10:00:05.500Z') / 1000, durationSeconds: 1.25 });
    expect(facts.gates).toEqual({ release: { name: 'shop', version: '1.1.0' }, results: [gateSummary] });

    const text = renderExposition(markerFamilies(facts));
    expect(text).toContain(`airlock_release_info{site="plant-a",release="shop",version="1.0.0",content_digest="${DIGEST}"} 1\n`);
    expect(text).toContain('airlock_last_run_timestamp_seconds{site="plant-a",action="rollback",outcome="succeeded",release="shop",version="1.2.0"} 1767261605.5\n');
    expect(text).toContain('airlock_last_run_duration_seconds{site="plant-a"} 1.25\n');
    expect(text).toContain('airlock_last_run_outcome{site="plant-a",outcome="succeeded"} 1\nairlock_last_run_outcome{site="plant-a",outcome="failed"} 0\n');
    expect(text).toContain('airlock_health_gate_passed{site="plant-a",release="shop",version="1.1.0",gate="errors"} 0\n');
    expect(text).toContain('airlock_installs_total{site="plant-a",outcome="rolled-back"} 1\n');
    expect(text).toContain('# TYPE airlock_rollbacks_total counter\n');
    // Nothing installed, nothing run: no info series, no last run, but the counters at zero.
    const empty = renderExposition(markerFamilies(markerFacts({ site: 'plant-a' }, state([]), [])));
    expect(empty).not.toContain('airlock_release_info');
    expect(empty).not.toContain('airlock_last_run');
    expect(empty).toContain('airlock_installs_total{site="plant-a",outcome="succeeded"} 0\n');
  });

  it('are text that promtool accepts without a lint warning', async () => {
    const text = renderExposition(markerFamilies(markerFacts({ site: 'plant-a' }, state(['1.0.0', '1.1.0']), [entry('install', 'succeeded', { release: { name: 'shop', version: '1.1.0' }, gates: [gateSummary] })])));
    expect(await promtool(text)).toEqual({ code: 0, output: '' });
  });

  it('escape any label value so that promtool reads the same series back (200 random values)', async () => {
    const alphabet = ['a', 'Z', '0', '.', '-', '"', '\\', '\n', '{', '}', ',', '=', ' ', 'é', '✓', '#', '\t'];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const values = Array.from({ length: 200 }, () => Array.from({ length: 1 + Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
    const family: MetricFamily = { name: 'airlock_test_info', help: 'a "help" text with \\ and\na newline', type: 'gauge', series: values.map((value, i) => ({ labels: { v: value, i: String(i) }, value: i })) };
    const text = renderExposition([family]);
    expect(text.split('\n').filter(Boolean)).toHaveLength(values.length + 2);
    expect(await promtool(text)).toEqual({ code: 0, output: '' });
    // Read back by an independent unescaping: every value as it was given.
    const read = [...text.matchAll(/^airlock_test_info\{v="((?:[^"\\]|\\.)*)",i="(\d+)"\} (\d+)$/gm)].map((m) => [m[1]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)), Number(m[2])]);
    expect(read).toEqual(values.map((value, i) => [value, i]));
  });
});

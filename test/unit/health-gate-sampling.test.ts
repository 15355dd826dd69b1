/**
 * A health gate's condition arithmetic and its sampling rule (every sample over `for` must hold;
 * the first that does not, any query without a number, or the timeout fails it), checked over
 * many random gates and sample sequences on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { AirlockError, type ErrorCode } from '../../src/base/errors.js';
import type { HealthGate } from '../../src/manifest/health-gate.js';
import { evaluateGate, sampleCount } from '../../src/telemetry/evaluate-gate.js';
import { describeCondition, gateLimit, holds } from '../../src/telemetry/gate-condition.js';
import { healthGate } from '../support/bundle-manifest.js';

describe('conditions', () => {
  it('compares with the limit the condition names, tolerance as an amount or a share of |before|', () => {
    expect(gateLimit(healthGate({ below: 0.5 }), undefined)).toEqual({ op: '<', value: 0.5 });
    expect(gateLimit(healthGate({ below: undefined, above: 0.9 }), undefined)).toEqual({ op: '>', value: 0.9 });
    const worse = (fields: Partial<HealthGate>) => healthGate({ below: undefined, noWorseThan: 'before', ...fields });
    expect(gateLimit(worse({ tolerance: '10%' }), 2)).toEqual({ op: '<=', value: 2.2 });
    expect(gateLimit(worse({ tolerance: '50%' }), -4)).toEqual({ op: '<=', value: -2 });
    expect(gateLimit(worse({ tolerance: 0.25, worse: 'lower' }), 1)).toEqual({ op: '>=', value: 0.75 });
    expect(gateLimit(worse({}), 3)).toEqual({ op: '<=', value: 3 });
    expect(holds({ op: '<', value: 1 }, 1)).toBe(false);
    expect(holds({ op: '<=', value: 1 }, 1)).toBe(true);
    expect(describeCondition(worse({ tolerance: '10%' }), 2)).toBe('no worse than before (+10%, higher is worse): at most 2.2 (before: 2)');
    expect(describeCondition(worse({ tolerance: 0.25, worse: 'lower' }))).toBe('no worse than before (-0.25, lower is worse)');
  });
});

/** A deterministic pseudo-random source, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Scripted {
  /** Per query: the value answered, or an error code, and how long the answer takes (ms). */
  answers: Array<{ value?: number; error?: ErrorCode; tookMs: number }>;
}

async function runScripted(g: HealthGate, script: Scripted, before?: number) {
  let now = 1_000_000;
  const asked: Array<{ at: number; limit: number }> = [];
  const result = await evaluateGate(g, before === undefined ? undefined : { value: before, at: 'before' }, {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    queryLimitMs: 10_000,
    prometheus: 'http://prometheus.test',
    query: async (_query, limit) => {
      const answer = script.answers[asked.length] ?? { value: 0, tookMs: 0 };
      asked.push({ at: now, limit });
      if (answer.tookMs > limit) {
        now += limit;
        throw new AirlockError('TELEMETRY_UNREACHABLE', 'did not answer');
      }
      now += answer.tookMs;
      if (answer.error !== undefined) throw new AirlockError(answer.error, `${answer.error} happened`);
      return { value: answer.value!, at: new Date(now).toISOString() };
    },
  });
  return { result, asked, start: 1_000_000 };
}

describe('the sampling rule', () => {
  it('passes exactly when every sample over `for` holds, failing at the first that does not (400 random gates)', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rand = random(seed);
      const interval = 1 + Math.floor(rand() * 10);
      const g = healthGate({ below: 0.5, intervalSeconds: interval, forSeconds: interval * (1 + Math.floor(rand() * 8)) + Math.floor(rand() * interval), timeoutSeconds: 10_000 });
      const count = sampleCount(g);
      const bad = rand() < 0.5 ? Math.floor(rand() * count) : -1;
      const answers = Array.from({ length: count }, (_, i) => ({ value: i === bad ? 0.5 + rand() : rand() * 0.49, tookMs: Math.floor(rand() * 900) }));
      const { result, asked, start } = await runScripted(g, { answers });
      const context = `seed ${seed}: ${JSON.stringify({ g, bad })}`;
      if (bad < 0) {
        expect(result.verdict, context).toBe('passed');
        expect(result.samples, context).toHaveLength(count);
        // The samples span `for`: the last query is asked no earlier than for seconds after the first.
        expect(asked.at(-1)!.at - start, context).toBeGreaterThanOrEqual((count - 1) * interval * 1000);
        expect(count, context).toBe(Math.floor(g.forSeconds / interval) + 1);
      } else {
        expect(result.verdict, context).toBe('failed');
        expect(result.code, context).toBe('HEALTH_CHECK_FAILED');
        expect(result.samples, context).toHaveLength(bad + 1);
        expect(result.samples.at(-1)?.ok, context).toBe(false);
        expect(result.samples.slice(0, -1).every((s) => s.ok), context).toBe(true);
        expect(result.reason, context).toContain(`(sample ${bad + 1} of ${count})`);
      }
      // Samples are asked an interval apart (or at once, when the previous answer came late).
      asked.forEach((q, i) => expect(q.at, context).toBeGreaterThanOrEqual(start + i * interval * 1000));
    }
  });

  it('never passes a gate whose query got no number: it fails with the query\'s own code (300 random gates)', async () => {
    const codes: ErrorCode[] = ['TELEMETRY_UNREACHABLE', 'TELEMETRY_AUTH', 'TELEMETRY_QUERY_FAILED'];
    for (let seed = 1; seed <= 300; seed++) {
      const rand = random(seed * 7919);
      const g = healthGate({ forSeconds: 5 + Math.floor(rand() * 20), intervalSeconds: 1 + Math.floor(rand() * 4), timeoutSeconds: 600 });
      const count = sampleCount(g);
      const broken = Math.floor(rand() * count);
      const code = codes[Math.floor(rand() * codes.length)]!;
      const answers = Array.from({ length: count }, (_, i) => (i === broken ? { error: code, tookMs: 10 } : { value: 0.1, tookMs: 10 }));
      const { result } = await runScripted(g, { answers });
      expect(result, `seed ${seed}`).toMatchObject({ verdict: 'failed', code, reason: `${code} happened` });
      expect(result.samples).toHaveLength(broken);
    }
  });

  it('times out when answers come too slowly to cover `for`, and cuts a query short at the timeout', async () => {
    const g = healthGate({ forSeconds: 10, intervalSeconds: 2, timeoutSeconds: 12 });
    const slow = await runScripted(g, { answers: Array.from({ length: 6 }, () => ({ value: 0.1, tookMs: 3000 })) });
    expect(slow.result).toMatchObject({ verdict: 'failed', code: 'HEALTH_CHECK_FAILED' });
    expect(slow.result.reason).toMatch(/^timed out after 12s with 4 of 6 samples taken/);
    // The last query was given only what was left of the 12 s, not the whole query limit.
    const stalled = await runScripted(g, { answers: [{ value: 0.1, tookMs: 0 }, { value: 0.1, tookMs: 60_000 }] });
    expect(stalled.result).toMatchObject({ verdict: 'failed', code: 'TELEMETRY_UNREACHABLE' });
    expect(stalled.asked[1]!.limit).toBe(10_000);
    const late = await runScripted(healthGate({ forSeconds: 10, intervalSeconds: 5, timeoutSeconds: 11 }), { answers: [{ value: 0.1, tookMs: 0 }, { value: 0.1, tookMs: 0 }, { value: 0.1, tookMs: 60_000 }] });
    expect(late.asked[2]!.limit).toBe(1000);
    expect(late.result.code).toBe('TELEMETRY_UNREACHABLE');
  });

  it('judges noWorseThan against the value before it was given', async () => {
    const g = healthGate({ below: undefined, noWorseThan: 'before', tolerance: '50%', forSeconds: 2, intervalSeconds: 1 });
    expect((await runScripted(g, { answers: [{ value: 0.14, tookMs: 0 }, { value: 0.15, tookMs: 0 }, { value: 0.12, tookMs: 0 }] }, 0.1)).result.verdict).toBe('passed');
    const failed = (await runScripted(g, { answers: [{ value: 0.14, tookMs: 0 }, { value: 0.16, tookMs: 0 }] }, 0.1)).result;
    expect(failed).toMatchObject({ verdict: 'failed', before: { value: 0.1 }, observed: { count: 2, min: 0.14, max: 0.16, last: 0.16 } });
    expect(failed.reason).toBe(`up was 0.16 at ${failed.samples[1]!.at}, not at most 0.15 (sample 2 of 3; before: 0.1)`);
  });
});

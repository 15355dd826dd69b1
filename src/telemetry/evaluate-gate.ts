/**
 * Runs one health gate: the query sampled when the gate starts and every `interval` after, until
 * the samples span `for` (floor(for / interval) + 1 of them). It passes when every sample held;
 * it fails at the first that did not, at the first query that got no number (the query's own
 * code: an unreachable Prometheus is never a pass), or when `timeout` runs out first (slow
 * answers). The clock and the query come in, so the rule is tested on its own, fast.
 */
import { isAirlockError } from '../base/errors.js';
import type { HealthGate } from '../manifest/health-gate.js';
import { describeCondition, describeLimit, formatDuration, formatValue, gateLimit, holds } from './gate-condition.js';
import type { GateResult, GateSample } from './gate-result.js';
import type { QueriedValue } from './prometheus-query.js';

export interface GateDeps {
  /** One instant query, answered within `timeoutMs` or failed with an AirlockError. */
  query(query: string, timeoutMs: number): Promise<QueriedValue>;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** The per-query limit (AIRLOCK_TELEMETRY_TIMEOUTS query); the time left to the gate's timeout may cut it shorter. */
  queryLimitMs: number;
  /** The Prometheus asked, for the record. */
  prometheus: string;
  onSample?(sample: GateSample, index: number, count: number): void;
}

export function sampleCount(gate: HealthGate): number {
  return Math.floor(gate.forSeconds / gate.intervalSeconds) + 1;
}

function observed(samples: readonly GateSample[]): GateResult['observed'] {
  if (samples.length === 0) return { count: 0 };
  const values = samples.map((s) => s.value);
  return { count: values.length, min: Math.min(...values), max: Math.max(...values), last: values.at(-1) };
}

export async function evaluateGate(gate: HealthGate, before: { value: number; at: string } | undefined, deps: GateDeps): Promise<GateResult> {
  const limit = gateLimit(gate, before?.value);
  const count = sampleCount(gate);
  const start = deps.now();
  const deadline = start + gate.timeoutSeconds * 1000;
  const samples: GateSample[] = [];
  const end = (verdict: GateResult['verdict'], reason: string, code?: GateResult['code']): GateResult => ({
    name: gate.name,
    query: gate.query,
    condition: describeCondition(gate, before?.value),
    prometheus: deps.prometheus,
    ...(before === undefined ? {} : { before }),
    verdict,
    ...(code === undefined ? {} : { code }),
    reason,
    observed: observed(samples),
    samples,
    startedAt: new Date(start).toISOString(),
    finishedAt: new Date(deps.now()).toISOString(),
  });
  const timedOut = () =>
    end('failed', `timed out after ${formatDuration(gate.timeoutSeconds)} with ${samples.length} of ${count} samples taken (every one held): Prometheus answered too slowly to cover ${formatDuration(gate.forSeconds)}`, 'HEALTH_CHECK_FAILED');

  for (let index = 0; index < count; index++) {
    const due = start + index * gate.intervalSeconds * 1000;
    if (due >= deadline) return timedOut();
    const wait = due - deps.now();
    if (wait > 0) await deps.sleep(wait);
    const left = deadline - deps.now();
    if (left <= 0) return timedOut();
    let answer: QueriedValue;
    try {
      answer = await deps.query(gate.query, Math.min(deps.queryLimitMs, left));
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      return end('failed', error.message, error.code);
    }
    const sample = { at: answer.at, value: answer.value, ok: holds(limit, answer.value) };
    samples.push(sample);
    deps.onSample?.(sample, index, count);
    if (!sample.ok) {
      const where = before === undefined ? '' : `; before: ${formatValue(before.value)}`;
      return end('failed', `${gate.query} was ${formatValue(sample.value)} at ${sample.at}, not ${describeLimit(limit)} (sample ${index + 1} of ${count}${where})`, 'HEALTH_CHECK_FAILED');
    }
  }
  const { min, max } = observed(samples);
  return end('passed', `held ${describeLimit(limit)} for ${formatDuration(gate.forSeconds)}: ${count} samples, ${formatValue(min!)} to ${formatValue(max!)}`);
}

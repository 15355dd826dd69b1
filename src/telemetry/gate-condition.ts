/**
 * A gate's condition as one comparison against one limit: `below 0.5` is `value < 0.5`;
 * `noWorseThan: before` with a tolerance is `value <= before + tolerance` when higher is worse
 * (`>= before - tolerance` when lower is), the tolerance an amount or a share of |before|.
 * Pure, so the same words serve the plan, the progress lines, the journal and the receipt.
 */
import type { HealthGate } from '../manifest/health-gate.js';

export type Comparison = '<' | '>' | '<=' | '>=';

export interface Limit {
  op: Comparison;
  value: number;
}

export function needsBaseline(gate: HealthGate): boolean {
  return gate.noWorseThan !== undefined;
}

function toleranceAmount(tolerance: HealthGate['tolerance'], before: number): number {
  if (tolerance === undefined) return 0;
  if (typeof tolerance === 'number') return tolerance;
  return (Math.abs(before) * Number(tolerance.slice(0, -1))) / 100;
}

/** The limit a value is held to; `before` is required for noWorseThan (and ignored otherwise). */
export function gateLimit(gate: HealthGate, before: number | undefined): Limit {
  if (gate.below !== undefined) return { op: '<', value: gate.below };
  if (gate.above !== undefined) return { op: '>', value: gate.above };
  if (before === undefined) throw new Error(`gate ${gate.name}: noWorseThan needs the value before`);
  const amount = toleranceAmount(gate.tolerance, before);
  return gate.worse === 'lower' ? { op: '>=', value: before - amount } : { op: '<=', value: before + amount };
}

export function holds(limit: Limit, value: number): boolean {
  switch (limit.op) {
    case '<':
      return value < limit.value;
    case '>':
      return value > limit.value;
    case '<=':
      return value <= limit.value;
    case '>=':
      return value >= limit.value;
  }
}

/** A number as people read it: 0.30000000000000004 is 0.3. */
export function formatValue(value: number): string {
  return String(Number(value.toPrecision(6)));
}

const WORDS: Record<Comparison, string> = { '<': 'below', '>': 'above', '<=': 'at most', '>=': 'at least' };

export function describeLimit(limit: Limit): string {
  return `${WORDS[limit.op]} ${formatValue(limit.value)}`;
}

/** `below 0.5`, `no worse than before (+10%, higher is worse)`, with the limit once the value before is known. */
export function describeCondition(gate: HealthGate, before?: number): string {
  if (gate.noWorseThan === undefined) return describeLimit(gateLimit(gate, undefined));
  const sign = gate.worse === 'lower' ? '-' : '+';
  const tolerance = gate.tolerance === undefined ? '' : `${sign}${typeof gate.tolerance === 'number' ? formatValue(gate.tolerance) : gate.tolerance}, `;
  const words = `no worse than before (${tolerance}${gate.worse === 'lower' ? 'lower' : 'higher'} is worse)`;
  return before === undefined ? words : `${words}: ${describeLimit(gateLimit(gate, before))} (before: ${formatValue(before)})`;
}

/** 120 -> `2m`, 90 -> `90s`: the manifest's own way of writing durations. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['h', 3600], ['m', 60]] as const) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

/** The whole gate in one line: `sum(...) below 0.5 for 2m, every 10s (timeout 3m)`. */
export function describeGate(gate: HealthGate, before?: number): string {
  return `${gate.query} ${describeCondition(gate, before)} for ${formatDuration(gate.forSeconds)}, every ${formatDuration(gate.intervalSeconds)} (timeout ${formatDuration(gate.timeoutSeconds)})`;
}

/**
 * A health gate: a `healthCheck` entry of kind `prometheus`, judged on the site's own metrics
 * instead of by a script (docs/MANIFEST.md, docs/TELEMETRY.md). One PromQL query, one condition
 * (`below` or `above` a number, or `noWorseThan: before`: the same query's value sampled just
 * before the install changed anything, give or take a tolerance), held for `for` seconds,
 * sampled every `interval`, given up on after `timeout`. The release manifest writes durations
 * (`2m`); airlock.json and the install journal carry seconds. The rules that span fields are
 * one function, so the manifest a build engineer writes and the airlock.json an installer
 * reads are held to the same ones.
 */
import { z } from 'zod';

/** A gate samples at most this many times: `for` / `interval` beyond it is a mistake (or a log, not a gate). */
export const MAX_GATE_SAMPLES = 1000;

const finite = z.number({ error: (issue) => (issue.input === undefined ? undefined : 'expected a number') }).refine(Number.isFinite, 'expected a finite number');

const TOLERANCE_RULE = 'expected a non-negative number (an absolute amount) or a percentage such as 10%';

/** An absolute amount (`0.05`), or a share of the value before (`10%`). */
export const toleranceSchema = z.union([z.number().nonnegative(TOLERANCE_RULE).refine(Number.isFinite, TOLERANCE_RULE), z.string().regex(/^\d+(\.\d+)?%$/, TOLERANCE_RULE)], {
  error: TOLERANCE_RULE,
});

/** The condition fields, as both the manifest and airlock.json spell them. */
export const conditionFields = {
  below: finite.optional(),
  above: finite.optional(),
  noWorseThan: z.literal('before', { error: 'the only baseline is before (the value sampled just before the install)' }).optional(),
  tolerance: toleranceSchema.optional(),
  /** Which way is worse for noWorseThan: `higher` (errors, latency: the default) or `lower` (throughput, up). */
  worse: z.enum(['higher', 'lower']).optional(),
};

type ConditionFields = { below?: number; above?: number; noWorseThan?: 'before'; tolerance?: number | string; worse?: 'higher' | 'lower' };

export interface GateTimes {
  forSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
}

/** The rules that span fields, with the names the writer used for the three durations. */
export function gateProblems(gate: ConditionFields & GateTimes, names: { for: string; interval: string; timeout: string }): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const given = (['below', 'above', 'noWorseThan'] as const).filter((key) => gate[key] !== undefined);
  if (given.length !== 1) {
    problems.push({ path: 'below', message: `give exactly one condition: below, above or noWorseThan${given.length > 1 ? ` (found ${given.join(' and ')})` : ''}` });
  }
  for (const key of ['tolerance', 'worse'] as const) {
    if (gate[key] !== undefined && gate.noWorseThan === undefined) problems.push({ path: key, message: `${key} only applies with noWorseThan: before` });
  }
  if (gate.intervalSeconds > gate.forSeconds) problems.push({ path: names.interval, message: `the sampling interval must not be longer than ${names.for}` });
  if (gate.timeoutSeconds <= gate.forSeconds) problems.push({ path: names.timeout, message: `must be longer than ${names.for}, or the gate could never pass` });
  if (gate.forSeconds / gate.intervalSeconds > MAX_GATE_SAMPLES) {
    problems.push({ path: names.interval, message: `${names.for} / ${names.interval} gives more than ${MAX_GATE_SAMPLES} samples: sample less often` });
  }
  return problems;
}

const gateName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const seconds = z.number().int().positive();

/** A gate as airlock.json (and the install journal) records it. */
export const healthGateSchema = z
  .object({
    kind: z.literal('prometheus'),
    name: gateName,
    query: z.string().min(1),
    ...conditionFields,
    forSeconds: seconds,
    intervalSeconds: seconds,
    timeoutSeconds: seconds,
  })
  .superRefine((gate, ctx) => {
    for (const problem of gateProblems(gate, { for: 'forSeconds', interval: 'intervalSeconds', timeout: 'timeoutSeconds' })) {
      ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
    }
  });

export type HealthGate = z.infer<typeof healthGateSchema>;

/** A health check that is a gate, not a script (a script entry has no `kind`). */
export function isHealthGate(check: object): check is HealthGate {
  return 'kind' in check && check.kind === 'prometheus';
}

/**
 * `hooks.healthCheck` entries of the release manifest: a script (the default kind), or a
 * health gate on the site's Prometheus (`kind: prometheus`, src/manifest/health-gate.ts).
 * The kind picks the schema, so a mistake is reported against the fields of its own kind.
 */
import { z } from 'zod';
import { conditionFields, gateProblems } from './health-gate.js';
import { durationSchema, durationSeconds } from './release-durations.js';

const DEFAULT_FOR = '1m';
const DEFAULT_INTERVAL = '10s';
/** Without a timeout, a gate is given `for` plus this long (slow answers, a late first sample). */
const DEFAULT_TIMEOUT_MARGIN_SECONDS = 60;

function gateSchema(name: z.ZodType<string>) {
  return z
    .strictObject({
      kind: z.literal('prometheus'),
      name,
      /** PromQL, evaluated as an instant query; it must give one number (aggregate it: sum(...), max(...)). */
      query: z.string().trim().min(1, 'must not be empty'),
      ...conditionFields,
      for: durationSchema(DEFAULT_FOR),
      interval: durationSchema(DEFAULT_INTERVAL),
      timeout: z.string().optional(),
    })
    .transform((gate, ctx) => {
      const { timeout, for: forSeconds, interval, ...rest } = gate;
      const timeoutSeconds = timeout === undefined ? forSeconds + DEFAULT_TIMEOUT_MARGIN_SECONDS : durationSeconds(timeout);
      if (timeoutSeconds === undefined) {
        ctx.addIssue({ code: 'custom', path: ['timeout'], message: `expected a duration such as 60s, 5m or 1h: ${timeout}` });
        return z.NEVER;
      }
      const parsed = { ...rest, for: forSeconds, interval, timeout: timeoutSeconds };
      const problems = gateProblems({ ...parsed, forSeconds, intervalSeconds: interval, timeoutSeconds }, { for: 'for', interval: 'interval', timeout: 'timeout' });
      for (const problem of problems) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
      return problems.length > 0 ? z.NEVER : parsed;
    });
}

/**
 * One healthCheck entry. `hook` is the script hook's schema (release.ts owns it); an entry
 * without `kind` is a script, as every manifest written before gates existed says.
 */
export function healthCheckSchema<H extends z.ZodObject<{ name: z.ZodType<string> }, z.core.$strict>>(hook: H) {
  const script = hook.extend({ kind: z.literal('script') }).transform(({ kind: _kind, ...rest }) => rest as z.output<H>);
  return z.preprocess(
    (value) => (value !== null && typeof value === 'object' && !('kind' in value) ? { ...value, kind: 'script' } : value),
    z.discriminatedUnion('kind', [script, gateSchema(hook.shape.name)], {
      error: (issue) => (issue.code === 'invalid_union' ? 'expected kind: script (the default) or prometheus' : undefined),
    }),
  );
}

export type ReleaseHealthGate = z.output<ReturnType<typeof gateSchema>>;

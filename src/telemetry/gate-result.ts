/**
 * What a health gate found: its query and condition, the value before (noWorseThan), every
 * sample (Prometheus' time and value, and whether it held), the verdict and, when it failed,
 * the code and the reason. Kept whole in the install's directory and the receipt; the audit
 * log, status and the deployment markers carry the summary without the samples.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../base/errors.js';

const sampleSchema = z.object({ at: z.string(), value: z.number(), ok: z.boolean() });

export const gateSummarySchema = z.object({
  name: z.string(),
  query: z.string(),
  /** The condition in words, with its limit: `below 0.5`, `no worse than before (...): at most 0.022 (before: 0.02)`. */
  condition: z.string(),
  /** The Prometheus asked (its URL, never a token). */
  prometheus: z.string(),
  before: z.object({ value: z.number(), at: z.string() }).optional(),
  verdict: z.enum(['passed', 'failed']),
  /** Why it failed: HEALTH_CHECK_FAILED (the condition did not hold, or time ran out), or a TELEMETRY_* code. */
  code: z.enum(ERROR_CODES).optional(),
  reason: z.string(),
  observed: z.object({ count: z.number(), min: z.number().optional(), max: z.number().optional(), last: z.number().optional() }),
  startedAt: z.string(),
  finishedAt: z.string(),
});

export const gateResultSchema = gateSummarySchema.extend({ samples: z.array(sampleSchema) });

export type GateSample = z.infer<typeof sampleSchema>;
export type GateSummary = z.infer<typeof gateSummarySchema>;
export type GateResult = z.infer<typeof gateResultSchema>;

export function gateSummary(result: GateResult): GateSummary {
  const { samples: _samples, ...summary } = result;
  return summary;
}

/**
 * One instant query through the Prometheus HTTP API (`POST /api/v1/query`), reduced to the one
 * number a health gate judges. Everything but one finite number is a failed gate with a code of
 * its own, never a pass: no answer (TELEMETRY_UNREACHABLE), a refused token (TELEMETRY_AUTH),
 * a query Prometheus refuses, no series, several, a range vector, NaN or ±Inf
 * (TELEMETRY_QUERY_FAILED: the message says which, and what to write instead).
 */
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { exchange, refusedAuth, type Endpoint } from './http.js';

/** `[<unix seconds>, "<value>"]`: Prometheus sends sample values as strings (so that NaN and ±Inf survive JSON). */
const sampleSchema = z.tuple([z.number(), z.string()]);

const answerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleSchema })) }),
      z.object({ resultType: z.literal('scalar'), result: sampleSchema }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: z.unknown() }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

export interface QueriedValue {
  value: number;
  /** When Prometheus evaluated the query (its clock, not ours). */
  at: string;
}

function parseAnswer(text: string): z.infer<typeof answerSchema> | undefined {
  try {
    const parsed = answerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function queryFailed(endpoint: Endpoint, query: string, why: string): AirlockError {
  return new AirlockError('TELEMETRY_QUERY_FAILED', `${endpoint.url}: the query ${query} ${why}`);
}

function labels(metric: Record<string, string>): string {
  const pairs = Object.entries(metric).map(([name, value]) => `${name}="${value}"`);
  return `{${pairs.join(', ')}}`;
}

export async function queryValue(endpoint: Endpoint, query: string, timeoutMs: number): Promise<QueriedValue> {
  const answer = await exchange(endpoint, {
    method: 'POST',
    path: '/api/v1/query',
    body: new URLSearchParams({ query }).toString(),
    contentType: 'application/x-www-form-urlencoded',
    timeoutMs,
    what: 'the query',
  });
  if (answer.status === 401 || answer.status === 403) throw refusedAuth(endpoint, answer.status);
  const parsed = parseAnswer(answer.text);
  if (parsed?.status === 'error') {
    // 400 bad_data (the PromQL does not parse), 422 execution: the query is at fault. 503 and the like: Prometheus is.
    const why = `${parsed.errorType ?? 'error'}: ${parsed.error ?? 'no detail'}`;
    if (answer.status === 400 || answer.status === 422) throw queryFailed(endpoint, query, `was refused (${why})`);
    throw new AirlockError('TELEMETRY_UNREACHABLE', `${endpoint.url} answered HTTP ${answer.status} to the query (${why})`);
  }
  if (answer.status < 200 || answer.status > 299) throw new AirlockError('TELEMETRY_UNREACHABLE', `${endpoint.url} answered HTTP ${answer.status} to the query`);
  if (parsed === undefined) throw new AirlockError('TELEMETRY_UNREACHABLE', `${endpoint.url}/api/v1/query answered something that is not the Prometheus HTTP API`);
  const { data } = parsed;
  let sample: z.infer<typeof sampleSchema>;
  if (data.resultType === 'scalar') sample = data.result;
  else if (data.resultType !== 'vector') throw queryFailed(endpoint, query, `gives a ${data.resultType === 'matrix' ? 'range vector' : 'string'}; a gate needs one number`);
  else if (data.result.length === 0) {
    throw queryFailed(endpoint, query, 'gives no series (is the metric scraped? where no series means healthy, add `or vector(0)`)');
  } else if (data.result.length > 1) {
    const shown = data.result.slice(0, 3).map((series) => labels(series.metric)).join(', ');
    throw queryFailed(endpoint, query, `gives ${data.result.length} series (${shown}${data.result.length > 3 ? ', ...' : ''}); aggregate it to one, e.g. sum(...) or max(...)`);
  } else sample = data.result[0]!.value;
  const value = Number(sample[1]);
  if (!Number.isFinite(value)) throw queryFailed(endpoint, query, `gives ${sample[1]}, not a finite number`);
  return { value, at: new Date(sample[0] * 1000).toISOString() };
}

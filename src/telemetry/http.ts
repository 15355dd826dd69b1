/**
 * One HTTP exchange with a telemetry server (the site's Prometheus, a Pushgateway), from
 * connecting to the last byte of the answer within one limit: their answers are small, and a
 * server that took the connection and then says nothing (a hung process, SIGSTOP) must end
 * the wait. The bearer token rides in the Authorization header only: no message, record or
 * error built here holds it, and messages name the variable it came from instead.
 */
import { AirlockError } from '../base/errors.js';
import { seconds, timeLimits } from '../base/time-limits.js';
import type { TelemetryEndpoint } from '../manifest/site.js';

/** The documented defaults (docs/TELEMETRY.md#time-limits), in milliseconds. */
export const TELEMETRY_LIMITS = { query: 10_000, push: 5_000 };
export const TELEMETRY_LIMITS_VARIABLE = 'AIRLOCK_TELEMETRY_TIMEOUTS';

export function telemetryLimits(env: NodeJS.ProcessEnv = process.env): { queryMs: number; pushMs: number } {
  const limits = timeLimits(TELEMETRY_LIMITS_VARIABLE, TELEMETRY_LIMITS, env);
  return { queryMs: limits.query, pushMs: limits.push };
}

/**
 * A telemetry server ready to talk to, its token read from the environment. The token is a
 * private field: printing, logging or serialising an endpoint shows its URL and the name of
 * the token's variable, never the token.
 */
export class Endpoint {
  readonly #token: string | undefined;

  constructor(
    readonly url: string,
    /** What the token is called in messages: `$PROM_TOKEN`. */
    readonly tokenName?: string,
    token?: string,
  ) {
    this.#token = token;
  }

  authorization(): Record<string, string> {
    return this.#token === undefined ? {} : { Authorization: `Bearer ${this.#token}` };
  }
}

/** Reads the endpoint's token from its environment variable; `field` names the site file key in the error. */
export function resolveEndpoint(endpoint: TelemetryEndpoint, field: string, siteFile: string, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const url = endpoint.url.replace(/\/+$/, '');
  if (endpoint.bearerTokenEnv === undefined) return new Endpoint(url);
  const token = env[endpoint.bearerTokenEnv];
  if (token === undefined || token === '') {
    throw new AirlockError('VARIABLE_MISSING', `${siteFile}: ${field}.bearerTokenEnv names ${endpoint.bearerTokenEnv}, which is not set in the environment`);
  }
  return new Endpoint(url, `$${endpoint.bearerTokenEnv}`, token);
}

export interface Exchange {
  method: 'GET' | 'POST' | 'PUT';
  /** Appended to the endpoint's URL. */
  path: string;
  body?: string;
  contentType?: string;
  timeoutMs: number;
  /** What the exchange is for, in messages: `the query`, `the push`. */
  what: string;
}

export interface Answer {
  status: number;
  text: string;
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

export async function exchange(endpoint: Endpoint, request: Exchange): Promise<Answer> {
  const headers: Record<string, string> = { Accept: 'application/json, text/plain;q=0.9', ...endpoint.authorization() };
  if (request.contentType !== undefined) headers['Content-Type'] = request.contentType;
  const signal = AbortSignal.timeout(Math.max(1, Math.round(request.timeoutMs)));
  try {
    const response = await fetch(`${endpoint.url}${request.path}`, { method: request.method, headers, body: request.body, signal, redirect: 'error' });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    if (signal.aborted) throw new AirlockError('TELEMETRY_UNREACHABLE', `${endpoint.url} did not answer ${request.what} within ${seconds(request.timeoutMs)}`);
    const code = causeCode(error);
    const why = code ?? (error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error));
    throw new AirlockError('TELEMETRY_UNREACHABLE', `${endpoint.url} could not be reached for ${request.what} (${why})`);
  }
}

/** The words for an answer that refused the token, or the missing token. */
export function refusedAuth(endpoint: Endpoint, status: number): AirlockError {
  const token = endpoint.tokenName === undefined ? 'no bearer token was sent (set bearerTokenEnv in the site file)' : `the bearer token from ${endpoint.tokenName} was refused`;
  return new AirlockError('TELEMETRY_AUTH', `${endpoint.url} answered HTTP ${status}: ${token}`);
}

/**
 * Which failures are worth another try (dropped or refused connections, stalls, 5xx, 429) and
 * the backoff between tries. A failure that outlives its attempts (or the retry window) becomes
 * an AirlockError that names the registry: REGISTRY_UNREACHABLE for the network,
 * REGISTRY_TIMEOUT for a registry that stopped answering, REGISTRY_ERROR for the server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from '../../base/errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts this long after an operation's first failure (stalls take a time limit each). */
  windowMs?: number;
}

// 5 attempts over about 4 s: rides out a registry restart without making a dead one slow to report.
// A stalled registry costs a time limit per attempt: the window keeps the whole wait near 2 minutes.
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, windowMs: 60_000 };

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A time limit of one exchange passed (src/images/registry/watchdog.ts): `connection` before connecting, else `stall`. */
export class Stalled extends Error {
  constructor(
    readonly kind: 'connection' | 'stall',
    message: string,
  ) {
    super(message);
  }
}

export class TransientFailure extends Error {
  constructor(
    readonly registry: string,
    readonly kind: 'connection' | 'stall' | 'status',
    readonly reason: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`registry ${registry}: ${reason}`, options);
  }

  exhausted(attempts: number, sinceFirstFailureMs = 0): AirlockError {
    const tries = attempts === 1 ? '' : ` (after ${attempts} attempts)`;
    if (this.kind === 'connection') return new AirlockError('REGISTRY_UNREACHABLE', `registry ${this.registry} unreachable: ${this.reason}${tries}`, { cause: this });
    if (this.kind === 'stall') {
      // A stall's attempts each waited a time limit: say how long the registry was given in all.
      const given = attempts === 1 ? '' : ` (after ${attempts} attempts, ${Math.round(sinceFirstFailureMs / 1000)} s after the first stopped)`;
      return new AirlockError('REGISTRY_TIMEOUT', `registry ${this.registry} stopped answering: ${this.reason}${given}`, { cause: this });
    }
    return new AirlockError('REGISTRY_ERROR', `registry ${this.registry}: ${this.reason}${tries}`, { cause: this });
  }
}

/** A Node network error, a socket dropped mid-body, or a TransientFailure; anything else is final. */
export function asTransient(error: unknown, registry: string): TransientFailure | undefined {
  if (error instanceof TransientFailure) return error;
  if (error instanceof Stalled) return new TransientFailure(registry, error.kind, error.message, undefined, { cause: error });
  if (error instanceof AirlockError || !(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if ((code !== undefined && NETWORK_CODES.has(code)) || error.message === 'aborted' || error.message === 'socket hang up') {
    return new TransientFailure(registry, 'connection', code ?? error.message, undefined, { cause: error });
  }
  return undefined;
}

export function backoffMs(policy: RetryPolicy, failedAttempts: number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  // Jitter keeps parallel transfers from retrying in lockstep; a server's Retry-After is a floor.
  const jittered = exponential * (0.5 + Math.random() * 0.5);
  return Math.min(Math.max(jittered, retryAfterMs ?? 0), 30_000);
}

export async function retrying<T>(
  policy: RetryPolicy,
  registry: string,
  run: () => Promise<T>,
  onRetry?: (failure: TransientFailure, delayMs: number) => void,
): Promise<T> {
  let firstFailure: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const failure = asTransient(error, registry);
      if (!failure) throw error;
      firstFailure ??= Date.now();
      const delay = backoffMs(policy, attempt, failure.retryAfterMs);
      const waited = Date.now() - firstFailure;
      if (attempt >= policy.attempts || waited + delay > (policy.windowMs ?? Infinity)) throw failure.exhausted(attempt, waited);
      onRetry?.(failure, delay);
      await sleep(delay);
    }
  }
}

/** Retry-After in seconds (the HTTP-date form is rare from registries and treated as absent). */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/**
 * Which failures are worth another try (dropped or refused connections, 5xx, 429) and the
 * backoff between tries. A failure that outlives its attempts becomes an AirlockError that
 * names the registry: REGISTRY_UNREACHABLE for the network, REGISTRY_ERROR for the server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from '../../base/errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

// 5 attempts over about 4 s: rides out a registry restart without making a dead one slow to report.
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000 };

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

export class TransientFailure extends Error {
  constructor(
    readonly registry: string,
    readonly kind: 'connection' | 'status',
    readonly reason: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`registry ${registry}: ${reason}`, options);
  }

  exhausted(attempts: number): AirlockError {
    const tries = attempts === 1 ? '' : ` (after ${attempts} attempts)`;
    return this.kind === 'connection'
      ? new AirlockError('REGISTRY_UNREACHABLE', `registry ${this.registry} unreachable: ${this.reason}${tries}`, { cause: this })
      : new AirlockError('REGISTRY_ERROR', `registry ${this.registry}: ${this.reason}${tries}`, { cause: this });
  }
}

/** A Node network error, a socket dropped mid-body, or a TransientFailure; anything else is final. */
export function asTransient(error: unknown, registry: string): TransientFailure | undefined {
  if (error instanceof TransientFailure) return error;
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
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const failure = asTransient(error, registry);
      if (!failure) throw error;
      if (attempt >= policy.attempts) throw failure.exhausted(attempt);
      const delay = backoffMs(policy, attempt, failure.retryAfterMs);
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

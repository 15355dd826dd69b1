import { describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/base/errors.js';
import { forEachLimit } from '../../src/base/parallel.js';
import { asTransient, backoffMs, parseRetryAfter, retrying, Stalled, TransientFailure } from '../../src/images/registry/retry.js';
import { registryLimits } from '../../src/images/registry/watchdog.js';

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('retries', () => {
  it('retries network errors and registry 5xx/429, never other failures', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(asTransient(refused, 'r:1')).toMatchObject({ kind: 'connection', reason: 'ECONNREFUSED' });
    expect(asTransient(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), 'r:1')).toBeInstanceOf(TransientFailure);
    expect(asTransient(new AirlockError('IMAGE_INVALID', 'x'), 'r:1')).toBeUndefined();
    expect(asTransient(new Error('something else'), 'r:1')).toBeUndefined();
  });

  it('gives up after the last attempt with an error naming the registry', async () => {
    let calls = 0;
    const run = retrying(fast, 'reg:5000', async () => {
      calls++;
      throw Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
    });
    await expect(run).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE', message: 'registry reg:5000 unreachable: ECONNREFUSED (after 3 attempts)' });
    expect(calls).toBe(3);
    await expect(retrying(fast, 'reg:5000', async () => Promise.reject(new TransientFailure('reg:5000', 'status', 'HTTP 503 on GET /v2/')))).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      message: 'registry reg:5000: HTTP 503 on GET /v2/ (after 3 attempts)',
    });
  });

  it('returns as soon as an attempt succeeds, and does not retry a final error', async () => {
    let calls = 0;
    expect(await retrying(fast, 'r', async () => (++calls < 2 ? Promise.reject(new TransientFailure('r', 'connection', 'ECONNRESET')) : 'ok'))).toBe('ok');
    expect(calls).toBe(2);
    calls = 0;
    await expect(retrying(fast, 'r', async () => Promise.reject(new AirlockError('REGISTRY_AUTH', `no ${++calls}`)))).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(calls).toBe(1);
  });

  it('backs off exponentially with jitter, capped, and honours Retry-After', () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 300 };
    for (let i = 0; i < 50; i++) {
      expect(backoffMs(policy, 1)).toBeGreaterThanOrEqual(50);
      expect(backoffMs(policy, 1)).toBeLessThanOrEqual(100);
      expect(backoffMs(policy, 4)).toBeLessThanOrEqual(300);
    }
    expect(backoffMs(policy, 1, 2000)).toBe(2000);
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
  });
});

describe('bounded parallelism', () => {
  it('never runs more than the limit at once and runs everything', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimit([...Array(20).keys()], 4, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 1 + (n % 3)));
      running--;
      done.push(n);
    });
    expect(peak).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('starts nothing new after a failure, lets running tasks finish, and throws the first error', async () => {
    const started: number[] = [];
    let finished = 0;
    const run = forEachLimit([...Array(10).keys()], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('first');
      await new Promise((resolve) => setTimeout(resolve, 5));
      finished++;
    });
    await expect(run).rejects.toThrow('first');
    expect(started.length).toBeLessThan(10);
    expect(finished).toBe(started.length - 1);
  });
});

describe('bounded waiting', () => {
  it('starts no new attempt once the retry window since the first failure has passed, and says a stall timed out', async () => {
    let calls = 0;
    const stalled = retrying({ attempts: 100, baseDelayMs: 20, maxDelayMs: 20, windowMs: 150 }, 'reg:5000', async () => {
      calls++;
      throw new Stalled('stall', 'no answer to HEAD /v2/x within 2 s');
    });
    await expect(stalled).rejects.toMatchObject({ code: 'REGISTRY_TIMEOUT', message: expect.stringMatching(/^registry reg:5000 stopped answering: no answer to HEAD \/v2\/x within 2 s \(after \d+ attempts, 0 s after the first stopped\)$/) });
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(12);
    const connect = retrying({ attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, 'reg:5000', async () => Promise.reject(new Stalled('connection', 'could not connect within 10 s (GET /v2/)')));
    await expect(connect).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE', message: 'registry reg:5000 unreachable: could not connect within 10 s (GET /v2/) (after 2 attempts)' });
  });

  it('reads the limits from AIRLOCK_REGISTRY_TIMEOUTS in seconds, keeping the defaults of those not named, and refuses nonsense', () => {
    expect(registryLimits({})).toEqual({ connectMs: 10_000, firstByteMs: 30_000, idleMs: 30_000, retryWindowMs: 60_000 });
    expect(registryLimits({ AIRLOCK_REGISTRY_TIMEOUTS: 'idle=2.5, connect=1' })).toEqual({ connectMs: 1000, firstByteMs: 30_000, idleMs: 2500, retryWindowMs: 60_000 });
    for (const bad of ['idle', 'idle=0', 'idle=-1', 'nap=3', 'idle=3s']) {
      expect(() => registryLimits({ AIRLOCK_REGISTRY_TIMEOUTS: bad })).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('AIRLOCK_REGISTRY_TIMEOUTS') }));
    }
  });
});

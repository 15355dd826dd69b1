/**
 * Time limits on one HTTP exchange with a registry, from connecting to the last byte of the
 * answer: a registry that accepts the connection and then says nothing (a hung process, a
 * dead proxy) holds a socket open forever, which no TCP timeout notices. Each phase has its
 * limit: connecting, taking the request, the first byte of the answer, and each pause in the
 * answer's body. Silence that is ours (our source is slow to read, our consumer slow to
 * write, the request waits for one of the registry's bounded connections) does not count. Past half a limit (5 s at most) a `waiting for` line is shown.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { seconds, timeLimits } from '../../base/time-limits.js';
import { DEFAULT_RETRY, Stalled } from './retry.js';

export interface ExchangeLimits {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

/** The documented defaults (docs/IMAGES.md#time-limits), in milliseconds. */
export const REGISTRY_LIMITS = { connect: 10_000, firstByte: 30_000, idle: 30_000, retryWindow: DEFAULT_RETRY.windowMs! };
export const LIMITS_VARIABLE = 'AIRLOCK_REGISTRY_TIMEOUTS';

/** The limits in force: the defaults, as AIRLOCK_REGISTRY_TIMEOUTS changes them. */
export function registryLimits(env: NodeJS.ProcessEnv = process.env): ExchangeLimits & { retryWindowMs: number } {
  const limits = timeLimits(LIMITS_VARIABLE, REGISTRY_LIMITS, env);
  return { connectMs: limits.connect, firstByteMs: limits.firstByte, idleMs: limits.idle, retryWindowMs: limits.retryWindow };
}

type Phase = 'connect' | 'send' | 'answer' | 'body';

const WAITING: Record<Phase, string> = {
  connect: 'to accept the connection',
  send: 'to take the request',
  answer: 'to answer',
  body: 'to send the rest of its answer',
};

function stalled(phase: Phase, what: string, limit: number): Stalled {
  switch (phase) {
    case 'connect':
      return new Stalled('connection', `could not connect within ${seconds(limit)} (${what})`);
    case 'send':
      return new Stalled('stall', `took nothing more of ${what} for ${seconds(limit)}`);
    case 'answer':
      return new Stalled('stall', `no answer to ${what} within ${seconds(limit)}`);
    case 'body':
      return new Stalled('stall', `sent nothing more of its answer to ${what} for ${seconds(limit)}`);
  }
}

/**
 * Watches `request` until its answer has been read or it failed; a passed limit destroys the
 * request (or the answer being read) with a Stalled error, which the retries treat as transient.
 */
export function watchExchange(request: ClientRequest, registry: string, what: string, limits: ExchangeLimits, notice: (line: string) => void): void {
  let phase: Phase = 'connect';
  let socket: Socket | undefined;
  let response: IncomingMessage | undefined;
  let moved = -1;
  let quietSince = Date.now();
  let noticed = false;
  const limitOf = (p: Phase) => (p === 'connect' ? limits.connectMs : p === 'answer' ? limits.firstByteMs : limits.idleMs);
  const enter = (next: Phase) => {
    phase = next;
    quietSince = Date.now();
    noticed = false;
  };
  const tick = Math.max(50, Math.min(1000, limits.connectMs / 4, limits.firstByteMs / 4, limits.idleMs / 4));
  const timer = setInterval(() => {
    const now = Date.now();
    const bytes = socket === undefined ? 0 : socket.bytesRead + socket.bytesWritten;
    // Waiting on ourselves: for one of our bounded connections to be free, nothing queued for the
    // registry to take, or an answer our consumer has not read yet.
    const ours =
      socket === undefined ||
      (phase === 'send' && socket !== undefined && socket.writableLength === 0) ||
      (phase === 'body' && response !== undefined && response.readableLength > 0);
    if (bytes !== moved || ours) {
      moved = bytes;
      quietSince = now;
      noticed = false;
      return;
    }
    const limit = limitOf(phase);
    const quiet = now - quietSince;
    if (quiet >= limit) {
      stop();
      (response ?? request).destroy(stalled(phase, what, limit));
    } else if (!noticed && quiet >= Math.min(5000, limit / 2)) {
      noticed = true;
      notice(`waiting for registry ${registry} ${WAITING[phase]} (${what}): ${seconds(quiet)} so far, giving up after ${seconds(limit)}`);
    }
  }, tick);
  // The exchange's own socket keeps the process alive while it lasts; the watchdog need not.
  timer.unref();
  const stop = () => clearInterval(timer);
  // A request without a body can be handed to a socket that is still connecting.
  let sent = false;
  const connected = () => enter(sent ? 'answer' : 'send');
  request.once('socket', (assigned: Socket) => {
    socket = assigned;
    if (!assigned.connecting) connected();
    else assigned.once('connect', () => phase === 'connect' && connected());
  });
  request.once('finish', () => {
    sent = true;
    if (phase === 'send') enter('answer');
  });
  request.once('response', (answer: IncomingMessage) => {
    response = answer;
    enter('body');
    answer.once('end', stop);
    answer.once('close', stop);
  });
  request.once('close', () => response === undefined && stop());
  request.once('error', stop);
}

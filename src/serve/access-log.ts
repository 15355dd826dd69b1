/**
 * What the server says while it runs: one line per request (client, method, path, status, body
 * bytes, milliseconds), its start and stop, and faults (bytes that did not match their digest).
 * As text for people, or with --json one JSON object per line for log collectors. Requests and
 * events go to stdout, faults to stderr. Request headers are never logged (they may carry tokens).
 */
import type { Writable } from 'node:stream';

export interface RequestLine {
  client: string;
  method: string;
  path: string;
  /** null when the connection was cut before an answer was sent. */
  status: number | null;
  bytes: number;
  ms: number;
  /** Why the answer was cut short, when it was. */
  failure?: string;
}

export interface ServeLog {
  request(line: RequestLine): void;
  /** A lifecycle event (listening, stopping, stopped): a sentence for people, fields for machines. */
  event(event: string, text: string, fields?: Record<string, unknown>): void;
  fault(text: string, fields: Record<string, unknown>): void;
  /** Something left out at start (an image that cannot be served), on stderr. */
  warn(text: string): void;
}

export function serveLog(json: boolean, out: Writable, err: Writable): ServeLog {
  const time = () => new Date().toISOString();
  const line = (stream: Writable, value: Record<string, unknown>) => stream.write(`${JSON.stringify({ time: time(), ...value })}\n`);
  if (json) {
    return {
      request: (entry) => line(out, { event: 'request', ...entry }),
      event: (event, text, fields = {}) => line(out, { event, message: text, ...fields }),
      fault: (text, fields) => line(err, { event: 'fault', message: text, ...fields }),
      warn: (text) => line(err, { event: 'warning', message: text }),
    };
  }
  return {
    request: (entry) =>
      out.write(`${time()} ${entry.client} ${entry.method} ${entry.path} ${entry.status ?? '-'} ${entry.bytes} ${entry.ms}ms${entry.failure === undefined ? '' : ` CUT: ${entry.failure}`}\n`),
    event: (_event, text) => out.write(`${text}\n`),
    fault: (text) => err.write(`${time()} airlock serve: ${text}\n`),
    warn: (text) => err.write(`warning: ${text}\n`),
  };
}

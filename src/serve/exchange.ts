/**
 * One request and its answer, and what the access log says about it: status, body bytes
 * actually handed to the client, time taken, and why the connection was cut if it was.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorBody, type OciError } from './errors.js';

/** Every answer carries the API version header that clients probe for. */
const API_HEADERS = { 'Docker-Distribution-API-Version': 'registry/2.0' } as const;

/** How a failed write looks when the client closed the connection first. */
const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);

export class Exchange {
  readonly started = performance.now();
  /** Body bytes handed to the connection. */
  bytes = 0;
  /** Why the answer did not complete (the stream failed, or the client went away). */
  failure: string | undefined;

  constructor(
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly url: URL,
  ) {}

  get head(): boolean {
    return this.request.method === 'HEAD';
  }

  /** A whole answer from memory (HEAD gets the same headers and no body). */
  send(status: number, headers: OutgoingHttpHeaders, body?: Buffer): void {
    this.response.writeHead(status, { ...API_HEADERS, ...headers });
    if (this.head || body === undefined) {
      this.response.end();
      return;
    }
    this.bytes += body.length;
    this.response.end(body);
  }

  fail(error: OciError): void {
    const body = errorBody(error);
    this.send(error.status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...(error.status === 405 ? { Allow: 'GET, HEAD' } : {}) }, body);
  }

  /**
   * Streams a body after the headers; a stream that fails destroys the connection, so the client
   * sees a short body, never a complete-looking one. Resolves with the fault, if the failure was
   * on our side (bytes that do not match, a read error); a client that went away is no fault.
   */
  async stream(status: number, headers: OutgoingHttpHeaders, body: Readable, ...through: Transform[]): Promise<Error | undefined> {
    if (this.head) {
      body.destroy();
      this.send(status, headers);
      return undefined;
    }
    this.response.writeHead(status, { ...API_HEADERS, ...headers });
    const counted = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline([body, ...through, counted, this.response]);
      return undefined;
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      this.cut(error.message);
      return CLIENT_GONE.has((error as NodeJS.ErrnoException).code ?? '') ? undefined : error;
    }
  }

  /** Ends the connection without an answer (or mid-answer): nothing more reaches the client. */
  cut(reason: string): void {
    this.failure ??= reason;
    this.response.destroy();
  }
}

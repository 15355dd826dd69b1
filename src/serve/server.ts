/**
 * The HTTP(S) edge of `airlock serve`. Node's own http/https modules are enough: the API is a
 * handful of GET/HEAD routes matched by one table (router.ts), and streaming with backpressure,
 * keep-alive, Range and TLS are all the standard library's; a framework would add a dependency
 * to the single-file installer and nothing the routes need.
 * Stopping (SIGTERM) closes the listener and idle connections at once, lets requests in flight
 * finish, and closes each keep-alive connection as its last answer ends.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AirlockError } from '../base/errors.js';
import type { RequestLine, ServeLog } from './access-log.js';
import { BlobChecks } from './blob-checks.js';
import { serveBlob } from './blobs.js';
import type { Catalog } from './catalog.js';
import type { ServedContent } from './content.js';
import type { ServeContext } from './context.js';
import { OciError, readOnly } from './errors.js';
import { Exchange } from './exchange.js';
import { listRepositories, listTags } from './listing.js';
import { serveManifest } from './manifests.js';
import { listReferrers } from './referrers.js';
import { routeOf } from './router.js';
import type { TlsIdentity } from './tls.js';

/** A connection silent this long (a client that stopped reading, say) is closed. */
const IDLE_SOCKET_MS = 120_000;

export interface ServerOptions {
  host: string;
  port: number;
  tls?: TlsIdentity;
}

export interface RunningServer {
  /** The address actually bound (the port the kernel chose for port 0). */
  host: string;
  port: number;
  /** Requests being answered now. */
  inFlight(): number;
  /** First call: finish what is in flight, then close. A second call: close every connection now. */
  stop(): void;
  /** Settles once the server has closed. */
  closed: Promise<void>;
}

async function answer(exchange: Exchange, context: ServeContext): Promise<void> {
  const method = exchange.request.method ?? 'GET';
  const route = routeOf(exchange.url.pathname);
  if (route === undefined) throw new OciError(404, 'UNSUPPORTED', `${exchange.url.pathname} is not an endpoint of the OCI distribution API`);
  if (route.kind === 'upload' || (method !== 'GET' && method !== 'HEAD')) throw readOnly(method, exchange.url.pathname);
  switch (route.kind) {
    case 'ping':
      exchange.send(200, { 'Content-Type': 'application/json', 'Content-Length': 3 }, Buffer.from('{}\n'));
      return;
    case 'catalog':
      listRepositories(exchange, context.catalog);
      return;
    case 'tags':
      listTags(exchange, context.catalog, route.name);
      return;
    case 'manifest':
      await serveManifest(exchange, context, route.name, route.reference);
      return;
    case 'blob':
      await serveBlob(exchange, context, route.name, route.digest);
      return;
    case 'referrers':
      listReferrers(exchange, context.catalog, route.name, route.digest);
  }
}

function clientOf(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '-').replace(/^::ffff:/, '');
}

export async function startServer(catalog: Catalog, content: ServedContent, options: ServerOptions, log: ServeLog): Promise<RunningServer> {
  const context: ServeContext = {
    catalog,
    content,
    checks: new BlobChecks(content),
    onFault: (error, name, digest) =>
      log.fault(`${name}@${digest}: ${error.message}; the connection was cut`, { repository: name, digest, code: error instanceof AirlockError ? error.code : 'IO', error: error.message }),
  };
  let stopping = false;
  let inFlight = 0;

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    inFlight++;
    if (stopping) response.shouldKeepAlive = false;
    const exchange = new Exchange(request, response, new URL(request.url ?? '/', 'http://airlock.invalid'));
    response.once('close', () => {
      inFlight--;
      const line: RequestLine = {
        client: clientOf(request),
        method: request.method ?? '-',
        path: request.url ?? '-',
        status: response.headersSent ? response.statusCode : null,
        bytes: exchange.bytes,
        ms: Math.round(performance.now() - exchange.started),
        ...(exchange.failure === undefined && response.writableFinished ? {} : { failure: exchange.failure ?? 'the client closed the connection' }),
      };
      log.request(line);
      if (stopping) server.closeIdleConnections();
    });
    answer(exchange, context).catch((error: unknown) => {
      if (error instanceof OciError && !response.headersSent) {
        exchange.fail(error);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      log.fault(`${request.method} ${request.url}: ${message}`, { code: 'INTERNAL', error: message });
      // A bug, not a client's error: the spec's codes have none for it, so the message says where to look.
      if (response.headersSent) exchange.cut(message);
      else exchange.fail(new OciError(500, 'UNSUPPORTED', 'internal error; see the server log'));
    });
  };

  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key.export({ format: 'pem', type: 'pkcs8' }) }, onRequest)
    : http.createServer(onRequest);
  server.setTimeout(IDLE_SOCKET_MS);
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the address is in use' : error.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : error.code === 'EADDRNOTAVAIL' ? 'no such local address' : error.message;
      reject(new AirlockError('LISTEN_FAILED', `--listen ${options.host}:${options.port}: ${why}`, { cause: error }));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    host: bound.address,
    port: bound.port,
    inFlight: () => inFlight,
    stop: () => {
      if (stopping) {
        server.closeAllConnections();
        return;
      }
      stopping = true;
      server.close();
      server.closeIdleConnections();
    },
    closed,
  };
}

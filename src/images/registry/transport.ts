/**
 * HTTP to one registry (Distribution API v2), on node:http(s) so request and response bodies
 * stream with backpressure and nothing is buffered but small JSON documents. Handles auth
 * challenges, redirects (blob downloads are often sent to object storage) and retries.
 * Plain HTTP is used only for registries the user marked insecure.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { AirlockError } from '../../base/errors.js';
import { VERSION } from '../../base/version.js';
import { Authenticator } from './auth.js';
import type { RegistryCredentials } from './registry-credentials.js';
import { apiHost } from '../../oci/reference.js';
import { DEFAULT_RETRY, TransientFailure, asTransient, parseRetryAfter, retrying, type RetryPolicy } from './retry.js';
import { registryLimits, watchExchange, type ExchangeLimits } from './watchdog.js';
import { registryConnections } from './connection-limit.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: Method;
  /** A path on the registry (`/v2/...`) or a URL the registry handed out (upload locations). */
  url: string;
  headers?: Record<string, string>;
  /** A Buffer can be sent again on retry; a stream is sent once (the caller retries the whole operation). */
  body?: Buffer | Readable;
  /** Token scopes the request needs, e.g. `repository:library/nginx:pull`. */
  scopes: readonly string[];
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  url: URL;
  body: IncomingMessage;
}

export interface TransportOptions {
  insecure?: boolean;
  credentials?: RegistryCredentials;
  retry?: RetryPolicy;
  /** Connections open at once to one origin; default AIRLOCK_REGISTRY_CONNECTIONS or 8. Requests past it wait their turn. */
  connections?: number;
  /** Detail for --verbose. */
  onRetry?: (message: string) => void;
  /** Lines a person waiting should see (stderr): a registry slow to answer, and each retry after it failed. */
  onWait?: (line: string) => void;
}

const USER_AGENT = `airlock/${VERSION}`;
/** At most one `waiting for` line this often per registry, however many transfers wait at once. */
const NOTICE_EVERY_MS = 5000;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// EPROTO is what OpenSSL reports when the other side does not speak TLS at all (a plain-HTTP registry).
const TLS_CODES = /^(EPROTO$|ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_)/;

export class RegistryTransport {
  readonly base: URL;
  readonly retry: RetryPolicy;
  private readonly limits: ExchangeLimits;
  private lastNotice = 0;
  private readonly auth: Authenticator;
  /** The connection bound: also how many transfers callers keep in flight, so none waits long for a socket. */
  readonly connections: number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    readonly registry: string,
    private readonly options: TransportOptions = {},
  ) {
    this.base = new URL(`${options.insecure ? 'http' : 'https'}://${apiHost(registry)}`);
    this.connections = options.connections ?? registryConnections();
    // maxSockets is per origin (a redirect to object storage gets its own); keep-alive reuses them across images.
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: this.connections });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: this.connections });
    const limits = registryLimits();
    this.limits = limits;
    this.retry = options.retry ?? { ...DEFAULT_RETRY, windowMs: limits.retryWindowMs };
    this.auth = new Authenticator(registry, options.credentials, (url, headers) => this.fetchSmall(url, headers), options.insecure === true);
  }

  /** Retries by itself when the body can be sent again; with a stream body, failures surface as TransientFailure. */
  async request(request: RegistryRequest): Promise<RegistryResponse> {
    if (request.body instanceof Readable) return this.attempt(request);
    return this.retrying(() => this.attempt(request));
  }

  /** Runs a whole operation (e.g. a blob upload) again on transient failures, with this registry's backoff. */
  retrying<T>(run: () => Promise<T>): Promise<T> {
    return retrying(this.retry, this.registry, run, (failure, delay) => {
      const line = `${failure.message}; retrying in ${Math.round(delay)} ms`;
      if (this.options.onWait) this.options.onWait(line);
      else this.options.onRetry?.(line);
    });
  }

  resolve(location: string, relativeTo: URL = this.base): URL {
    return new URL(location, relativeTo);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async attempt(request: RegistryRequest): Promise<RegistryResponse> {
    let url = this.resolve(request.url);
    let challenged = false;
    for (let redirects = 0; ; ) {
      const ours = url.origin === this.base.origin;
      // Credentials never follow a redirect to another origin (e.g. object storage with a signed URL).
      const authorization = ours ? await this.auth.authorization(request.scopes) : undefined;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...request.headers };
      if (authorization) headers.authorization = authorization;
      if (Buffer.isBuffer(request.body)) headers['content-length'] = String(request.body.length);
      else if (request.body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) headers['content-length'] = '0';
      const response = await this.send(url, request.method, headers, request.body);
      const status = response.statusCode ?? 0;
      if (status === 401 && ours && !challenged) {
        response.resume();
        await this.auth.challenged(response.headersDistinct['www-authenticate'] ?? [], request.scopes, authorization);
        challenged = true;
        // A stream body was (partly) consumed: the caller's retry sends it again, now with credentials.
        if (request.body instanceof Readable) throw new TransientFailure(this.registry, 'status', 'authentication renewed');
        continue;
      }
      if (status === 401 || status === 403) {
        const detail = await errorDetail(response);
        throw new AirlockError('REGISTRY_AUTH', `${this.auth.refusal()} ${request.method} ${url.pathname} (HTTP ${status}${detail})`);
      }
      if (status >= 500 || status === 429) {
        const detail = await errorDetail(response);
        throw new TransientFailure(this.registry, 'status', `HTTP ${status} on ${request.method} ${url.pathname}${detail}`, parseRetryAfter(response.headers['retry-after']));
      }
      if (REDIRECTS.has(status) && (request.method === 'GET' || request.method === 'HEAD') && response.headers.location) {
        response.resume();
        if (++redirects > MAX_REDIRECTS) throw new AirlockError('REGISTRY_ERROR', `registry ${this.registry}: too many redirects for ${url.pathname}`);
        const next = new URL(response.headers.location, url);
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && this.options.insecure)) {
          throw new AirlockError('REGISTRY_ERROR', `registry ${this.registry} redirected ${url.pathname} to ${next.origin}, which is not HTTPS`);
        }
        url = next;
        continue;
      }
      return { status, headers: response.headers, url, body: response };
    }
  }

  private send(url: URL, method: Method, headers: Record<string, string>, body: Buffer | Readable | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(url, { method, headers, agent: secure ? this.httpsAgent : this.httpAgent });
      watchExchange(request, this.registry, `${method} ${url.pathname}`, this.limits, (line) => this.notice(line));
      request.on('error', (error) => reject(this.connectionFailure(error, url)));
      request.on('response', (response) => {
        // The registry answered before taking the whole body (an error): stop reading the source.
        if (body instanceof Readable && !body.readableEnded) body.destroy();
        resolve(response);
      });
      if (body instanceof Readable) {
        body.on('error', (error) => request.destroy(error));
        body.pipe(request);
      } else {
        request.end(body);
      }
    });
  }

  private notice(line: string): void {
    const now = Date.now();
    if (now - this.lastNotice < NOTICE_EVERY_MS) return;
    this.lastNotice = now;
    (this.options.onWait ?? this.options.onRetry)?.(line);
  }

  private connectionFailure(error: Error, url: URL): Error {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const where = url.origin === this.base.origin ? `registry ${this.registry}` : `registry ${this.registry} (via ${url.host})`;
    if (TLS_CODES.test(code)) {
      return new AirlockError(
        'REGISTRY_UNREACHABLE',
        `${where}: TLS failed (${code}); a plain-HTTP registry must be marked insecure, a private CA can be added with NODE_EXTRA_CA_CERTS`,
        { cause: error },
      );
    }
    if (code === 'ENOTFOUND') return new AirlockError('REGISTRY_UNREACHABLE', `${where}: host ${url.hostname} not found`, { cause: error });
    return asTransient(error, this.registry) ?? error;
  }

  /** GET of a small document (a token) with this registry's retries. */
  private fetchSmall(url: URL, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
    return this.retrying(async () => {
      const response = await this.send(url, 'GET', { 'user-agent': USER_AGENT, ...headers }, undefined);
      const status = response.statusCode ?? 0;
      if (status >= 500 || status === 429) {
        response.resume();
        throw new TransientFailure(this.registry, 'status', `token service ${url.host} answered HTTP ${status}`, parseRetryAfter(response.headers['retry-after']));
      }
      return { status, body: await readBody(response, 1 << 20, `token service ${url.host}`) };
    });
  }
}

/** Reads a small response body whole; a larger one is refused rather than buffered. */
export async function readBody(response: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers['content-length'] ?? 0);
  if (declared > limit) {
    response.destroy();
    throw new AirlockError('IMAGE_INVALID', `${what}: response of ${declared} bytes exceeds the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      response.destroy();
      throw new AirlockError('IMAGE_INVALID', `${what}: response exceeds the ${limit}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** `: CODE: message` from a distribution error body, or nothing; never more than a line. */
export async function errorDetail(response: IncomingMessage): Promise<string> {
  try {
    const body = await readBody(response, 64 * 1024, 'error response');
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = parsed.errors?.[0];
    if (first && typeof first.code === 'string') return `: ${first.code}${typeof first.message === 'string' ? `: ${first.message}` : ''}`;
  } catch {
    // An error body that is not the documented JSON adds nothing worth showing.
  }
  return '';
}

/** Fails with the registry's own words unless the status is one the caller expects. */
export async function expectStatus(response: RegistryResponse, expected: readonly number[], what: string, registry: string): Promise<void> {
  if (expected.includes(response.status)) return;
  const detail = await errorDetail(response.body);
  throw new AirlockError('REGISTRY_ERROR', `${what}: registry ${registry} answered HTTP ${response.status}${detail}`);
}


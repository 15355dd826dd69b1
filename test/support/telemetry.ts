/**
 * The site's monitoring, for real, on loopback: Debian's Prometheus (2.42), node_exporter and
 * Pushgateway, each on a free port with its own temporary directory, and two small HTTP servers
 * run in the test process: an "app" exposing a gauge the test drives, and a proxy that demands a
 * bearer token in front of Prometheus (Prometheus 2.42's web config knows basic auth only).
 * Scrape and evaluation intervals are 1 s, so a value the app changes is queryable within
 * about two seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const READY_TIMEOUT_MS = 20_000;

export interface Server {
  /** host:port, as a scrape target. */
  target: string;
  url: string;
  stop(): Promise<void>;
}

export interface Process extends Server {
  /** SIGSTOP: connections stay open and nothing answers. */
  pause(): void;
  resume(): void;
  log(): Promise<string>;
}

async function ready(url: string, proc: ChildProcess, logFile: string): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exited before it was ready:\n${await readFile(logFile, 'utf8')}`);
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms:\n${await readFile(logFile, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `command` on a free port (`args(port)`), retrying when another process took the port first. */
async function startProcess(name: string, command: string, args: (port: number, dir: string) => Promise<string[]> | string[], readyPath: string): Promise<Process> {
  const dir = await mkdtemp(join(tmpdir(), `airlock-${name}-`));
  const logFile = join(dir, `${name}.log`);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = spawn(command, await args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
    const url = `http://127.0.0.1:${port}`;
    try {
      await ready(`${url}${readyPath}`, proc, logFile);
    } catch (error) {
      proc.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(String(error))) continue;
      throw new Error(`${name}: ${String(error)}`);
    }
    return {
      target: `127.0.0.1:${port}`,
      url,
      pause: () => proc.kill('SIGSTOP'),
      resume: () => proc.kill('SIGCONT'),
      log: () => readFile(logFile, 'utf8'),
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((resolve) => proc.once('exit', resolve));
          proc.kill('SIGCONT');
          proc.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

export interface ScrapeJob {
  job: string;
  target: string;
  /** Keep the job and instance labels the target's series carry (a Pushgateway's). */
  honorLabels?: boolean;
}

export interface TestPrometheus extends Process {
  /** The instant query's vector, as the HTTP API answers it. */
  query(query: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** Polls the query until `accept` takes its answer (at most `timeoutMs`); returns that answer. */
  waitFor(
    query: string,
    accept: (result: Array<{ metric: Record<string, string>; value: number }>) => boolean,
    timeoutMs?: number,
  ): Promise<Array<{ metric: Record<string, string>; value: number }>>;
}

export async function startPrometheus(jobs: readonly ScrapeJob[]): Promise<TestPrometheus> {
  const config = [
    'global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms}',
    'scrape_configs:',
    ...jobs.map((job) => `  - {job_name: ${job.job}, honor_labels: ${job.honorLabels === true}, static_configs: [{targets: ['${job.target}']}]}`),
  ];
  const server = await startProcess(
    'prometheus',
    'prometheus',
    async (port, dir) => {
      const file = join(dir, 'prometheus.yml');
      await writeFile(file, `${config.join('\n')}\n`);
      return [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
    },
    '/-/ready',
  );
  const query = async (text: string) => {
    const answer = await fetch(`${server.url}/api/v1/query?${new URLSearchParams({ query: text })}`);
    const body = (await answer.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`query ${text}: ${JSON.stringify(body)}`);
    return body.data.result.map((series) => ({ metric: series.metric, value: Number(series.value[1]) }));
  };
  return {
    ...server,
    query,
    async waitFor(text, accept, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const result = await query(text);
        if (accept(result)) return result;
        if (Date.now() > until) throw new Error(`${text}: still ${JSON.stringify(result)} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}

/** node_exporter with only its textfile collector, reading `dir`. */
export function startNodeExporter(dir: string): Promise<Process> {
  return startProcess(
    'node-exporter',
    'prometheus-node-exporter',
    (port) => [`--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${dir}`],
    '/metrics',
  );
}

export function startPushgateway(): Promise<Process> {
  return startProcess('pushgateway', 'prometheus-pushgateway', (port) => [`--web.listen-address=127.0.0.1:${port}`], '/-/ready');
}

function listen(server: http.Server): Promise<Server> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        target: `127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        stop: () => new Promise<void>((done) => server.close(() => done())).then(() => undefined),
      });
    });
  });
}

/** The application the release configures: `app_error_ratio` is whatever `value()` says at each scrape. */
export async function startMetricsApp(value: () => Promise<number> | number): Promise<Server> {
  const server = http.createServer((request, response) => {
    void Promise.resolve(value()).then((ratio) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      response.end(`# HELP app_error_ratio Share of requests that failed.\n# TYPE app_error_ratio gauge\napp_error_ratio ${ratio}\n`);
    });
  });
  server.keepAliveTimeout = 500;
  const listening = await listen(server);
  return { ...listening, stop: () => (server.closeAllConnections(), listening.stop()) };
}

export interface BearerProxy extends Server {
  /** The Authorization header of every request that came in. */
  seen: string[];
}

/** A reverse proxy to `upstream` that answers 401 unless the request carries `Authorization: Bearer <token>`. */
export async function startBearerProxy(upstream: string, token: string): Promise<BearerProxy> {
  const seen: string[] = [];
  const server = http.createServer((request, response) => {
    seen.push(request.headers.authorization ?? '');
    if (request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' });
      response.end('unauthorized\n');
      return;
    }
    const forward = http.request(`${upstream}${request.url ?? '/'}`, { method: request.method, headers: { ...request.headers, host: new URL(upstream).host } }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', () => {
      response.writeHead(502);
      response.end();
    });
    request.pipe(forward);
  });
  const listening = await listen(server);
  return { ...listening, seen, stop: () => (server.closeAllConnections(), listening.stop()) };
}

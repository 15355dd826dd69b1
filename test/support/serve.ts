/**
 * `airlock serve` as a real process for tests: started from the bundled CLI on a port the
 * kernel picks (read back from its --json 'listening' line), its log lines parsed, stopped with
 * a real signal; and curl as the independent HTTP client, with status, headers and body bytes.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';

export interface LogLine {
  event: string;
  message?: string;
  [field: string]: unknown;
}

export interface ServeProcess {
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, as image references name it. */
  host: string;
  child: ChildProcess;
  /** The 'listening' event: images, runtimes, source. */
  listening: LogLine;
  /** Every JSON line written to stdout so far. */
  lines(): LogLine[];
  /** Request lines so far. */
  requests(): LogLine[];
  stderr(): string;
  stdoutText(): string;
  /** Sends the signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const READY_TIMEOUT_MS = 60_000;

/** With `text`, the server logs for people (no --json): lines() is then empty and stdoutText() has it all. */
export async function startServe(args: readonly string[], options: { env?: Record<string, string>; text?: boolean } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args, '--listen', '127.0.0.1:0', ...(options.text ? [] : ['--json'])], {
    env: { ...process.env, AIRLOCK_PASSPHRASE: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let allText = '';
  let stderr = '';
  const parsed: LogLine[] = [];
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await new Promise<LogLine>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`airlock serve did not listen within ${READY_TIMEOUT_MS} ms:\n${stderr}`)), READY_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      allText += text;
      if (options.text) {
        const url = /read-only at (https?:\/\/[^\s:]+:\d+):/.exec(allText)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve({ event: 'listening', url });
        }
        return;
      }
      stdout += text;
      const lines = stdout.split('\n');
      stdout = lines.pop()!;
      for (const line of lines) {
        const value = JSON.parse(line) as LogLine;
        parsed.push(value);
        if (value.event === 'listening') {
          clearTimeout(timer);
          resolve(value);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`airlock serve exited with ${code} before listening:\n${stderr}`));
    });
  });
  const url = String(listening.url);
  return {
    url,
    host: url.replace(/^https?:\/\//, ''),
    child,
    listening,
    lines: () => [...parsed],
    requests: () => parsed.filter((line) => line.event === 'request'),
    stderr: () => stderr,
    stdoutText: () => allText,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface HttpAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
  /** curl's exit code: 0, or e.g. 18 when the body came short of its Content-Length. */
  curlCode: number;
}

/** One request with curl (-i), not following redirects. `args` go before the URL (e.g. -X, -H, --cacert). */
export async function curl(url: string, args: readonly string[] = []): Promise<HttpAnswer> {
  const head = args.includes('-I') || args.includes('--head');
  const result = await execa('curl', ['-s', '-i', ...args, url], { encoding: 'buffer', reject: false, stripFinalNewline: false });
  const raw = Buffer.from(result.stdout);
  const split = raw.indexOf('\r\n\r\n');
  const headerText = (split < 0 ? raw : raw.subarray(0, split)).toString('latin1');
  const [statusLine, ...headerLines] = headerText.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
    headers,
    body: split < 0 || head ? Buffer.alloc(0) : raw.subarray(split + 4),
    curlCode: result.exitCode ?? -1,
  };
}

/** The body as JSON. */
export function json(answer: HttpAnswer): any {
  return JSON.parse(answer.body.toString('utf8'));
}

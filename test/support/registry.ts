/**
 * Real CNCF distribution registries for tests, on loopback with a port chosen by the kernel
 * (read back from the registry's log) and a temporary storage directory. Optional htpasswd
 * basic auth, or bearer-token auth against a small token service run in the test process.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RegistryOptions {
  /** htpasswd basic auth for one user. */
  basic?: { username: string; password: string };
  /** Bearer tokens issued by this token service. */
  token?: TokenService;
  /** Reuse a port (to restart a stopped registry where clients expect it). */
  port?: number;
  /** Reuse a storage directory (to restart with the same content). */
  storageDir?: string;
  /** Run as a pull-through cache of this registry URL (distribution's proxy.remoteurl). */
  proxy?: string;
}

export interface TestRegistry {
  /** host:port, as used in references. */
  host: string;
  port: number;
  storageDir: string;
  /** SIGKILL at once: connections drop mid-request, as with a crash or a pulled cable. */
  kill(): void;
  /** SIGSTOP: the registry keeps its connections open (the kernel even accepts new ones) and says nothing. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  stop(): Promise<void>;
  /** Starts again on the same port with the same storage and auth. */
  restart(): Promise<void>;
  /** Path of a blob's data file in the storage directory (to corrupt it on purpose). */
  blobDataPath(digest: string): string;
  log(): Promise<string>;
}

const READY_TIMEOUT_MS = 15_000;

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-registry-'));
  const storageDir = options.storageDir ?? join(dir, 'storage');
  const logFile = join(dir, 'registry.log');
  const config = ['version: 0.1', 'log: {level: info}', 'storage:', '  delete: {enabled: true}', '  maintenance: {uploadpurging: {enabled: false}}'];
  if (options.basic) {
    const htpasswd = join(dir, 'htpasswd');
    const { stdout } = await execa('htpasswd', ['-Bbn', options.basic.username, options.basic.password]);
    await writeFile(htpasswd, `${stdout.trim()}\n`);
    config.push('auth:', `  htpasswd: {realm: airlock-test, path: ${htpasswd}}`);
  }
  if (options.token) {
    config.push(
      'auth:',
      '  token:',
      `    realm: ${options.token.realm}`,
      `    service: ${options.token.service}`,
      `    issuer: ${options.token.issuer}`,
      `    rootcertbundle: ${options.token.certFile}`,
    );
  }
  if (options.proxy) config.push('proxy:', `  remoteurl: ${options.proxy}`);
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, `${config.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let port = options.port ?? 0;
  const env = {
    ...process.env,
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: storageDir,
    // Fixed, so upload sessions stay valid across a restart.
    REGISTRY_HTTP_SECRET: 'airlock-test-secret',
  };

  const launch = async (): Promise<void> => {
    const proc = spawn('docker-registry', ['serve', configFile], { env: { ...env, REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const log = createWriteStream(logFile, { flags: 'a' });
    proc.stdout.pipe(log, { end: false });
    proc.stderr.pipe(log, { end: false });
    port = await new Promise<number>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`registry did not start within ${READY_TIMEOUT_MS} ms:\n${seen}`)), READY_TIMEOUT_MS);
      const onData = (data: Buffer) => {
        seen += data.toString();
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          proc.stderr.off('data', onData);
          proc.stdout.off('data', onData);
          resolve(Number(match[1]));
        }
      };
      proc.stderr.on('data', onData);
      proc.stdout.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`registry exited with ${code} before listening:\n${seen}`));
      });
    });
  };

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    // A paused registry would not act on the signal: let it run first.
    proc.kill('SIGCONT');
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    get host() {
      return `127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storageDir,
    kill: () => {
      child?.kill('SIGKILL');
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    stop: async () => {
      await stop('SIGTERM');
      // Config, log and (unless given) storage; a storage directory passed in lives elsewhere and is kept.
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop('SIGKILL');
      await launch();
    },
    blobDataPath: (digest) => {
      const hex = digest.replace(/^sha256:/, '');
      return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    },
    log: () => readFile(logFile, 'utf8'),
  };
}

export interface TokenService {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Every token request: the scopes asked for and the user (undefined for anonymous). */
  requests: Array<{ scopes: string[]; user: string | undefined }>;
  close(): Promise<void>;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A token service as distribution's token auth expects: RS256 JWTs whose x5c header carries a
 * certificate the registry trusts (rootcertbundle). Grants what is asked to the one user, and
 * pull to anonymous clients when `anonymousPull` is set.
 */
export async function startTokenService(options: { username: string; password: string; anonymousPull?: boolean }): Promise<TokenService> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=airlock-test-token']);
  const key = await readFile(keyFile, 'utf8');
  const certDer = new X509Certificate(await readFile(certFile)).raw;
  const service = 'airlock-test-registry';
  const issuer = 'airlock-test-issuer';
  const requests: TokenService['requests'] = [];

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const scopes = url.searchParams.getAll('scope');
    const header = request.headers.authorization;
    let user: string | undefined;
    if (header?.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      if (name !== options.username || rest.join(':') !== options.password) {
        response.writeHead(401).end();
        return;
      }
      user = name;
    }
    requests.push({ scopes, user });
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !actions) return [];
      const granted = actions.split(',').filter((action) => user !== undefined || (options.anonymousPull && action === 'pull'));
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] }));
    const claims = base64url(JSON.stringify({ iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const signature = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(key);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${claims}.${base64url(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

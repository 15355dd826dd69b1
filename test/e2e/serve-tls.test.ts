/**
 * HTTPS for `airlock serve` with certificates from the project's own small CA (`airlock keys
 * ca-cert`, `cert-request`, `issue`), Ed25519 and RSA-PSS. What the tests establish:
 * - a certificate from `airlock keys issue` is a code-signing certificate (EKU codeSigning, no
 *   subjectAltName): real TLS clients refuse it as a server certificate (shown here against
 *   `openssl s_server`, not our code), and `airlock serve` refuses it up front, saying why;
 * - the airlock CA does work for TLS: its key signs, with stock openssl, a server certificate
 *   (serverAuth, subjectAltName) for a key made by `airlock keys generate`, and skopeo, curl and
 *   Node then pull over verified TLS with only the CA certificate as trust.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile, copyFile } from 'node:fs/promises';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { sha256, skopeo } from '../support/images.js';
import { makeServeFixture, servedAs, SHOP, type ServeFixture } from '../support/serve-fixture.js';
import { curl, startServe } from '../support/serve.js';

const PASSPHRASE = 'tls test passphrase';
const env = { AIRLOCK_PASSPHRASE: PASSPHRASE };
let fixture: ServeFixture;
let dir: string;

interface Pki {
  type: 'ed25519' | 'rsa';
  caCert: string;
  caKey: string;
  serverKey: string;
  request: string;
  /** `airlock keys issue`: a signer certificate. */
  signerCert: string;
  /** openssl x509 -req with the airlock CA key: a TLS server certificate. */
  serverCert: string;
  /** skopeo --cert-dir: the CA certificate as ca.crt. */
  certDir: string;
}

async function cli(args: string[]): Promise<string> {
  const result = await runCli(args, { env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

async function makePki(type: Pki['type']): Promise<Pki> {
  const base = join(dir, type);
  await cli(['keys', 'generate', '--name', 'ca', '--out', base, '--type', type]);
  await cli(['keys', 'generate', '--name', 'registry', '--out', base, '--type', type]);
  const pki: Pki = {
    type,
    caCert: join(base, 'ca.crt.pem'),
    caKey: join(base, 'ca.key.pem'),
    serverKey: join(base, 'registry.key.pem'),
    request: join(base, 'registry.csr.pem'),
    signerCert: join(base, 'registry.signer.crt.pem'),
    serverCert: join(base, 'registry.tls.crt.pem'),
    certDir: join(base, 'certs.d'),
  };
  await cli(['keys', 'ca-cert', '--key', pki.caKey, '--name', `Test Release CA (${type})`, '--out', pki.caCert]);
  await cli(['keys', 'cert-request', '--key', pki.serverKey, '--name', '127.0.0.1', '--out', pki.request]);
  await cli(['keys', 'issue', pki.request, '--ca-key', pki.caKey, '--ca-cert', pki.caCert, '--out', pki.signerCert]);
  const ext = join(base, 'server.ext');
  await writeFile(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  // The airlock CA key is an encrypted PKCS#8 PEM: openssl opens it with the same passphrase. RSA-PSS, as airlock signs.
  const pss = type === 'rsa' ? ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] : [];
  await execa('openssl', ['x509', '-req', '-in', pki.request, '-CA', pki.caCert, '-CAkey', pki.caKey, '-passin', 'env:AIRLOCK_PASSPHRASE', '-CAcreateserial', '-days', '30', '-extfile', ext, ...pss, '-out', pki.serverCert], { env });
  await mkdir(pki.certDir);
  await copyFile(pki.caCert, join(pki.certDir, 'ca.crt'));
  return pki;
}

let pkis: Pki[];

beforeAll(async () => {
  fixture = await makeServeFixture();
  dir = await mkdtemp(join(tmpdir(), 'airlock-serve-tls-'));
  pkis = [await makePki('ed25519'), await makePki('rsa')];
}, 180_000);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Node's own https client with only the CA as trust: undefined on success, else the error code. */
function nodeFetch(url: string, ca: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    https
      .get(url, { ca }, (response) => {
        response.resume();
        response.on('end', () => resolve(undefined));
      })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('a certificate from airlock keys issue is for code signing, not for TLS', () => {
  it('is refused by Node and skopeo as a TLS server certificate (against openssl s_server)', async () => {
    for (const pki of pkis) {
      const plainKey = join(dir, `${pki.type}-plain.key.pem`);
      await execa('openssl', ['pkey', '-in', pki.serverKey, '-passin', 'env:AIRLOCK_PASSPHRASE', '-out', plainKey], { env });
      const port = await freePort();
      const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', pki.signerCert, '-key', plainKey, '-www', '-quiet'], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 50 && (await curl(`https://127.0.0.1:${port}/`, ['-k'])).status === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
        // The handshake itself works (Ed25519 and RSA-PSS keys are fine for TLS): the certificate is refused.
        expect((await curl(`https://127.0.0.1:${port}/`, ['-k'])).status, pki.type).toBe(200);
        expect(await nodeFetch(`https://127.0.0.1:${port}/`, await readFile(pki.caCert)), pki.type).toBe('INVALID_PURPOSE');
        const go = await execa('skopeo', ['inspect', '--cert-dir', pki.certDir, `docker://127.0.0.1:${port}/x:y`], { reject: false });
        expect(go.stderr, pki.type).toContain('x509: certificate relies on legacy Common Name field');
      } finally {
        server.kill();
      }
    }
  });

  it('and airlock serve refuses it before starting, saying why', async () => {
    const result = await runCli(['serve', fixture.bundle, '--trust', fixture.fixture.trust, '--listen', '127.0.0.1:0', '--tls-cert', pkis[0]!.signerCert, '--tls-key', pkis[0]!.serverKey], { env });
    expect(result.code).toBe(exitCodeFor('CERTIFICATE_USAGE'));
    expect(result.stderr).toContain('does not allow a TLS server (serverAuth');
  });
});

describe('HTTPS with a server certificate signed by the airlock CA', () => {
  it('serves skopeo, curl and Node over verified TLS with only the CA certificate as trust (Ed25519 and RSA-PSS)', async () => {
    for (const pki of pkis) {
      const server = await startServe([fixture.bundle, '--trust', fixture.fixture.trust, '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey], { env });
      try {
        expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const ref = servedAs(server.host, `${SHOP}/app1:1.0`);
        // tls-verify stays on: the CA in --cert-dir is the only trust.
        expect((await skopeo(['inspect', '--cert-dir', pki.certDir, '--format', '{{.Digest}}', `docker://${ref}`])).trim(), pki.type).toBe(fixture.refs[`${SHOP}/app1:1.0`]);
        const out = join(dir, `copy-${pki.type}`);
        await skopeo(['copy', '--src-cert-dir', pki.certDir, `docker://${ref}`, `oci:${out}:x`]);
        expect(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')).manifests[0].digest).toBe(fixture.refs[`${SHOP}/app1:1.0`]);
        const manifest = await curl(`${server.url}/v2/shop/app1/manifests/1.0`, ['--cacert', pki.caCert]);
        expect(sha256(manifest.body)).toBe(fixture.refs[`${SHOP}/app1:1.0`]);
        expect(await nodeFetch(`${server.url}/v2/`, await readFile(pki.caCert))).toBeUndefined();
        // Without the CA, the certificate is not trusted.
        expect((await curl(`${server.url}/v2/`)).curlCode).toBe(60);
      } finally {
        await server.stop();
      }
    }
  });

  it('prints HTTPS hand-offs that point the runtimes at the CA', async () => {
    const pki = pkis[0]!;
    const result = await runCli(['serve', fixture.bundle, '--trust', fixture.fixture.trust, '--listen', '127.0.0.1:5443', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--print-config', 'containerd', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(result.stdout) as { files: Array<{ path: string; content: string }>; notes: string[] };
    expect(config.files[0]!.content).toContain('server = "https://127.0.0.1:5443"');
    expect(config.files[0]!.content).toContain('ca = "airlock-ca.crt"');
    expect(config.notes.join('\n')).toContain('airlock-ca.crt');
  });

  it('cannot sign releases: a bundle signed with the TLS key and certificate is refused by a trust store of that CA', async () => {
    const pki = pkis[0]!;
    const manifest = join(dir, 'tiny.yaml');
    await writeFile(manifest, 'name: tiny\nversion: 1.0.0\ntargets:\n  environments: [prod]\n');
    const trust = join(dir, 'ca-trust');
    await mkdir(trust);
    await copyFile(pki.caCert, join(trust, 'ca.crt'));
    await writeFile(join(trust, 'trust.yaml'), 'version: 1\nthreshold: 1\nauthorities:\n  - { file: ca.crt, name: Test Release CA }\n');
    for (const [cert, expected] of [
      [pki.serverCert, exitCodeFor('CERTIFICATE_USAGE')],
      [pki.signerCert, 0],
    ] as const) {
      const out = join(dir, `tiny-${expected}`);
      await cli(['build', manifest, '--key', pki.serverKey, '--cert', cert, '--out', out]);
      const verified = await runCli(['verify', join(out, 'tiny-1.0.0.airlock'), '--trust', trust]);
      expect(verified.code, verified.stderr).toBe(expected);
      if (expected !== 0) expect(verified.stderr).toContain('has extendedKeyUsage serverAuth, not codeSigning');
    }
  });

  it('refuses a certificate that names no host, a key that is not its own, and a wrong passphrase', async () => {
    const pki = pkis[0]!;
    const noSan = join(dir, 'no-san.crt.pem');
    const ext = join(dir, 'no-san.ext');
    await writeFile(ext, 'extendedKeyUsage=serverAuth\n');
    await execa('openssl', ['x509', '-req', '-in', pki.request, '-CA', pki.caCert, '-CAkey', pki.caKey, '-passin', 'env:AIRLOCK_PASSPHRASE', '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', noSan], { env });
    const serve = (cert: string, key: string, extra: Record<string, string> = env) =>
      runCli(['serve', fixture.bundle, '--trust', fixture.fixture.trust, '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key], { env: extra });
    const unnamed = await serve(noSan, pki.serverKey);
    expect(unnamed.code).toBe(exitCodeFor('CERTIFICATE_USAGE'));
    expect(unnamed.stderr).toContain('subjectAltName');
    const otherKey = await serve(pki.serverCert, pki.caKey);
    expect(otherKey.code).toBe(exitCodeFor('KEY_INVALID'));
    expect(otherKey.stderr).toContain(`is not the key of certificate ${pki.serverCert}`);
    const wrong = await serve(pki.serverCert, pki.serverKey, { AIRLOCK_PASSPHRASE: 'not it' });
    expect(wrong.code).toBe(exitCodeFor('PASSPHRASE_WRONG'));
    expect(wrong.stderr).not.toContain('not it');
  });
});


/**
 * Certificates end to end: the small offline CA made with the CLI is checked by openssl,
 * and a PKI made with openssl alone (RSA root, intermediate, Ed25519 signer) is accepted
 * by the trust code, or refused with the right code.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { AirlockError } from '../../src/base/errors.js';
import { verifyCertifiedSigner } from '../../src/trust/chain.js';
import { loadSigningKey } from '../../src/trust/keys.js';
import { loadTrustStore } from '../../src/trust/store.js';
import { runCli } from '../support/cli.js';

const PASS = 'ca-test-pass';
const env = { AIRLOCK_PASSPHRASE: PASS };
let dir: string;

async function openssl(args: string[], cwd = dir) {
  const result = await execa('openssl', args, { reject: false, cwd });
  expect(result.exitCode, `openssl ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function cli(args: string[]) {
  const result = await runCli(args, { env, cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout + result.stderr).not.toContain(PASS);
  return result;
}

async function storeWith(authorities: string, files: Record<string, string>) {
  const store = await mkdtemp(join(dir, 'trust-'));
  for (const [name, path] of Object.entries(files)) await writeFile(join(store, name), await readFile(join(dir, path)));
  await writeFile(join(store, 'trust.yaml'), `version: 1\nthreshold: 1\nrequiredRoles: [security]\nauthorities:\n${authorities}\n`);
  return store;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-certs-'));
});

describe('the offline CA of airlock keys', () => {
  beforeAll(async () => {
    await cli(['keys', 'generate', '-n', 'ca', '-o', 'ca', '--type', 'rsa']);
    await cli(['keys', 'generate', '-n', 'alice', '-o', '.']);
    await cli(['keys', 'ca-cert', '-k', 'ca/ca.key.pem', '-n', 'Example Release CA', '--org', 'Example', '-o', 'ca.crt.pem']);
    await cli(['keys', 'cert-request', '-k', 'alice.key.pem', '-n', 'Alice', '--role', 'security', '--role', 'build', '-o', 'alice.csr.pem']);
    await cli(['keys', 'issue', 'alice.csr.pem', '--ca-key', 'ca/ca.key.pem', '--ca-cert', 'ca.crt.pem', '-o', 'alice.crt.pem']);
  });

  it('writes a request and a certificate that openssl verifies, for signing', async () => {
    await openssl(['req', '-in', 'alice.csr.pem', '-verify', '-noout']);
    expect(await openssl(['verify', '-CAfile', 'ca.crt.pem', '-purpose', 'any', 'alice.crt.pem'])).toBe('alice.crt.pem: OK');
    const text = await openssl(['x509', '-in', 'alice.crt.pem', '-noout', '-text']);
    expect(text).toContain('Signature Algorithm: rsassaPss');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/Extended Key Usage:\s+Code Signing/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(await openssl(['x509', '-in', 'ca.crt.pem', '-noout', '-text'])).toMatch(/CA:TRUE, pathlen:0/);
  });

  it('a signature by the certified key verifies with openssl from the certificate alone', async () => {
    const key = await loadSigningKey(join(dir, 'alice.key.pem'), PASS);
    await writeFile(join(dir, 'data'), 'SHA256SUMS\n');
    await writeFile(join(dir, 'data.sig'), key.sign(Buffer.from('SHA256SUMS\n')));
    await openssl(['pkeyutl', '-verify', '-certin', '-inkey', 'alice.crt.pem', '-rawin', '-in', 'data', '-sigfile', 'data.sig']);
  });

  it('the trust store takes the CA; the certificate makes Alice a trusted security signer', async () => {
    const store = await storeWith('  - { file: ca.crt.pem, name: release CA, roles: [security] }', { 'ca.crt.pem': 'ca.crt.pem' });
    const trust = await loadTrustStore(store);
    const signer = verifyCertifiedSigner(trust, await readFile(join(dir, 'alice.crt.pem'), 'utf8'), 'alice.crt.pem', new Date());
    const key = await loadSigningKey(join(dir, 'alice.key.pem'), PASS);
    expect(signer).toMatchObject({ keyId: key.keyId, name: 'Alice', roles: ['security'], authority: 'release CA' });

    const listed = await cli(['keys', 'list', '--trust', store]);
    expect(listed.stdout).toMatch(/release CA\s+security\s+O=Example, CN=Example Release CA/);
    expect(listed.stdout).toContain('Root keys: none');
  });

  it('issue refuses a CA key that is not the certificate\'s, and an existing output file', async () => {
    const wrong = await runCli(['keys', 'issue', 'alice.csr.pem', '--ca-key', 'alice.key.pem', '--ca-cert', 'ca.crt.pem', '-o', 'x.crt.pem'], { env, cwd: dir });
    expect(wrong.code).toBe(exitCodeFor('KEY_INVALID'));
    expect(wrong.stderr).toContain('alice.key.pem: is not the key of CA certificate ca.crt.pem');
    const again = await runCli(['keys', 'issue', 'alice.csr.pem', '--ca-key', 'ca/ca.key.pem', '--ca-cert', 'ca.crt.pem', '-o', 'alice.crt.pem'], { env, cwd: dir });
    expect(again.code).toBe(exitCodeFor('KEY_EXISTS'));
  });
});

describe('a PKI made with openssl alone', () => {
  const ext = (name: string, lines: string[]) => writeFile(join(dir, name), `${lines.join('\n')}\n`);

  beforeAll(async () => {
    await mkdir(join(dir, 'pki'), { recursive: true });
    await ext('pki/root.ext', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']);
    await ext('pki/inter.ext', ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']);
    await ext('pki/signer.ext', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning']);
    await ext('pki/server.ext', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth']);
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', 'pki/root.key']);
    await openssl(['req', '-x509', '-new', '-key', 'pki/root.key', '-sha256', '-subj', '/O=Example/CN=Example Root', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'pki/root.crt']);
    await openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'pki/inter.key']);
    await openssl(['req', '-new', '-key', 'pki/inter.key', '-subj', '/O=Example/CN=Example Team CA', '-out', 'pki/inter.csr']);
    await openssl(['x509', '-req', '-in', 'pki/inter.csr', '-CA', 'pki/root.crt', '-CAkey', 'pki/root.key', '-sha256', '-days', '20', '-set_serial', '0x1001', '-extfile', 'pki/inter.ext', '-out', 'pki/inter.crt']);
    await openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'pki/signer.key']);
    await openssl(['req', '-new', '-key', 'pki/signer.key', '-subj', '/O=Example/OU=build/CN=ci-runner', '-out', 'pki/signer.csr']);
    for (const [name, extfile, serial] of [['signer', 'signer.ext', '0x2001'], ['server', 'server.ext', '0x2002']]) {
      await openssl(['x509', '-req', '-in', 'pki/signer.csr', '-CA', 'pki/inter.crt', '-CAkey', 'pki/inter.key', '-days', '10', '-set_serial', serial!, '-extfile', `pki/${extfile}`, '-out', `pki/${name}.crt`]);
    }
    await writeFile(join(dir, 'pki/signer-chain.pem'), (await readFile(join(dir, 'pki/signer.crt'), 'utf8')) + (await readFile(join(dir, 'pki/inter.crt'), 'utf8')));
    await writeFile(join(dir, 'pki/server-chain.pem'), (await readFile(join(dir, 'pki/server.crt'), 'utf8')) + (await readFile(join(dir, 'pki/inter.crt'), 'utf8')));
  });

  async function check(chain: string, authorities = '  - { file: root.crt, name: Example Root, roles: [build, security] }') {
    const trust = await loadTrustStore(await storeWith(authorities, { 'root.crt': 'pki/root.crt' }));
    return verifyCertifiedSigner(trust, await readFile(join(dir, chain), 'utf8'), chain, new Date());
  }

  function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    return promise.then(
      () => undefined,
      (error: unknown) => (error instanceof AirlockError ? error.code : String(error)),
    );
  }

  it('an RSA root (PKCS#1 v1.5), an Ed25519 intermediate and an Ed25519 signer chain', async () => {
    await openssl(['verify', '-CAfile', 'pki/root.crt', '-untrusted', 'pki/inter.crt', 'pki/signer.crt']);
    const signer = await check('pki/signer-chain.pem');
    expect(signer).toMatchObject({ name: 'ci-runner', roles: ['build'], authority: 'Example Root', serial: '2001' });
  });

  it('without the intermediate, the signer does not chain', async () => {
    expect(await codeOf(check('pki/signer.crt'))).toBe('CERTIFICATE_UNTRUSTED');
  });

  it('a TLS server certificate is not a signing certificate', async () => {
    expect(await codeOf(check('pki/server-chain.pem'))).toBe('CERTIFICATE_USAGE');
  });

  it('the root can revoke the intermediate by serial', async () => {
    const revoking = "  - { file: root.crt, name: Example Root, roles: [build, security], revokedSerials: ['10:01'] }";
    expect(await codeOf(check('pki/signer-chain.pem', revoking))).toBe('CERTIFICATE_REVOKED');
  });
});

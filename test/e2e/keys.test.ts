/**
 * Keys end to end: the real CLI makes them, openssl checks what we wrote and signed, and
 * keys openssl made load and sign through our API. A passphrase never reaches the output.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { AirlockError } from '../../src/base/errors.js';
import { loadSigningKey, type SigningKey } from '../../src/trust/keys.js';
import { CLI, runCli, type CliResult } from '../support/cli.js';

const PASS = 'tränsfer wïndow 42';
const OPENSSL_PASS = 'openssl-made-pass';
let dir: string;
let passFile: string;
let data: string;

async function openssl(args: string[]) {
  return execa('openssl', args, { reject: false });
}

/** What `openssl pkey -pubout -outform DER | sha256sum` says the key id of a public key file is. */
async function opensslKeyId(publicPem: string): Promise<string> {
  const der = await execa('openssl', ['pkey', '-pubin', '-in', publicPem, '-outform', 'DER'], { encoding: 'buffer' });
  const sum = await execa('sha256sum', { input: Buffer.from(der.stdout) });
  return sum.stdout.slice(0, 64);
}

async function opensslVerifies(key: SigningKey, publicPem: string, file: string): Promise<string> {
  const sig = `${file}.${key.keyId.slice(0, 8)}.sig`;
  await writeFile(sig, key.sign(await readFile(file)));
  const result =
    key.type === 'ed25519'
      ? await openssl(['pkeyutl', '-verify', '-pubin', '-inkey', publicPem, '-rawin', '-in', file, '-sigfile', sig])
      : await openssl(['dgst', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-verify', publicPem, '-signature', sig, file]);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.trim();
}

function expectNoSecret(result: CliResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

function expectFailure(result: CliResult, code: Parameters<typeof exitCodeFor>[0]): void {
  expect(result.code, result.stderr).toBe(exitCodeFor(code));
  expect(result.stderr).toContain(`airlock: ${code}: `);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-keys-'));
  passFile = join(dir, 'pass.txt');
  await writeFile(passFile, `${PASS}\n`);
  data = join(dir, 'SHA256SUMS');
  await writeFile(data, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  configs/prod/empty\n');
});

describe.each([
  { type: 'ed25519', flags: [] as string[], passphrase: 'file' },
  { type: 'rsa-pss', flags: ['--type', 'rsa'], passphrase: 'env' },
])('airlock keys generate --type $type', ({ type, flags, passphrase }) => {
  const name = `gen-${type}`;
  let generated: CliResult;
  let keyId: string;

  beforeAll(async () => {
    const source = passphrase === 'file' ? { args: ['--passphrase-file', passFile], env: {} } : { args: [], env: { AIRLOCK_PASSPHRASE: PASS } };
    generated = await runCli(['keys', 'generate', '--name', name, '--out', join(dir, 'keys'), ...flags, ...source.args, '--json'], { env: source.env });
    expect(generated.code, generated.stderr).toBe(0);
    keyId = (JSON.parse(generated.stdout) as { keyId: string }).keyId;
  });

  const privatePem = () => join(dir, 'keys', `${name}.key.pem`);
  const publicPem = () => join(dir, 'keys', `${name}.pub.pem`);

  it('writes the two files, the private one 0600, and reports the key id openssl computes', async () => {
    expect(JSON.parse(generated.stdout)).toMatchObject({ name, type, privateKey: privatePem(), publicKey: publicPem() });
    expect((await stat(privatePem())).mode & 0o777).toBe(0o600);
    expect(keyId).toBe(await opensslKeyId(publicPem()));
    expectNoSecret(generated, PASS);
  });

  it('openssl opens the encrypted private key with the passphrase, and not without it', async () => {
    const opened = await openssl(['pkey', '-in', privatePem(), '-passin', `pass:${PASS}`, '-noout']);
    expect(opened.exitCode, opened.stderr).toBe(0);
    expect(await readFile(privatePem(), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect((await openssl(['pkey', '-in', privatePem(), '-passin', 'pass:wrong', '-noout'])).exitCode).not.toBe(0);
  });

  it('signatures made through the src API verify with openssl', async () => {
    const key = await loadSigningKey(privatePem(), PASS);
    expect(key.keyId).toBe(keyId);
    expect(await opensslVerifies(key, publicPem(), data)).toMatch(/Verified/);
  });

  it('keys id gives the same id for the public key and (with the passphrase) the private key', async () => {
    const pub = await runCli(['keys', 'id', publicPem()]);
    expect(pub).toMatchObject({ code: 0, stdout: `${keyId}\n` });
    const priv = await runCli(['keys', 'id', privatePem(), '--passphrase-file', passFile, '--json']);
    expect(priv.code, priv.stderr).toBe(0);
    expect(JSON.parse(priv.stdout)).toEqual({ file: privatePem(), kind: 'private-key', type, keyId, identity: keyId });
    expectNoSecret(priv, PASS);
  });

  it('refuses to overwrite an existing key', async () => {
    const before = await readFile(privatePem(), 'utf8');
    const again = await runCli(['keys', 'generate', '--name', name, '--out', join(dir, 'keys'), ...flags, '--passphrase-file', passFile]);
    expectFailure(again, 'KEY_EXISTS');
    expect(again.stderr).toContain(privatePem());
    expect(await readFile(privatePem(), 'utf8')).toBe(before);
  });
});

describe('keys made by openssl genpkey', () => {
  const cases = [
    { algorithm: 'ed25519', options: [] as string[], type: 'ed25519' },
    { algorithm: 'RSA', options: ['-pkeyopt', 'rsa_keygen_bits:3072'], type: 'rsa-pss' },
    { algorithm: 'RSA-PSS', options: ['-pkeyopt', 'rsa_keygen_bits:3072'], type: 'rsa-pss' },
    {
      algorithm: 'RSA-PSS',
      options: ['-pkeyopt', 'rsa_keygen_bits:3072', '-pkeyopt', 'rsa_pss_keygen_md:sha256', '-pkeyopt', 'rsa_pss_keygen_mgf1_md:sha256', '-pkeyopt', 'rsa_pss_keygen_saltlen:32'],
      type: 'rsa-pss',
    },
  ];

  it.each(cases.map((c, index) => ({ ...c, index })))('$algorithm $options: encrypted PKCS#8 loads, signs for openssl, same key id', async ({ algorithm, options, type, index }) => {
    const base = join(dir, `openssl-${index}`);
    const made = await openssl(['genpkey', '-algorithm', algorithm, ...options, '-aes256', '-pass', `pass:${OPENSSL_PASS}`, '-out', `${base}.key.pem`]);
    expect(made.exitCode, made.stderr).toBe(0);
    await openssl(['pkey', '-in', `${base}.key.pem`, '-passin', `pass:${OPENSSL_PASS}`, '-pubout', '-out', `${base}.pub.pem`]);
    const key = await loadSigningKey(`${base}.key.pem`, OPENSSL_PASS);
    expect(key).toMatchObject({ type, encrypted: true });
    expect(key.keyId).toBe(await opensslKeyId(`${base}.pub.pem`));
    await opensslVerifies(key, `${base}.pub.pem`, data);
    const id = await runCli(['keys', 'id', `${base}.pub.pem`]);
    expect(id.stdout).toBe(`${key.keyId}\n`);
    const fromPrivate = await runCli(['keys', 'id', `${base}.key.pem`, '--json'], { env: { AIRLOCK_PASSPHRASE: OPENSSL_PASS } });
    const json = JSON.parse(fromPrivate.stdout) as { keyId: string; identity: string };
    expect(json.keyId).toBe(key.keyId);
    // One identity per key: its id in plain form. An RSA-PSS key's id differs from it.
    expect(json.identity === json.keyId).toBe(algorithm !== 'RSA-PSS');
  });

  it('an unencrypted key loads, and keys id warns about it', async () => {
    const file = join(dir, 'plain.key.pem');
    await openssl(['genpkey', '-algorithm', 'ed25519', '-out', file]);
    const key = await loadSigningKey(file, '');
    expect(key.encrypted).toBe(false);
    const id = await runCli(['keys', 'id', file]);
    expect(id.code, id.stderr).toBe(0);
    expect(id.stdout).toBe(`${key.keyId}\n`);
    expect(id.stderr).toContain(`warning: ${file} is not encrypted`);
  });

  it.each([
    ['ed25519', [] as string[]],
    ['RSA-PSS', ['-pkeyopt', 'rsa_keygen_bits:3072', '-pkeyopt', 'rsa_pss_keygen_md:sha256', '-pkeyopt', 'rsa_pss_keygen_mgf1_md:sha256', '-pkeyopt', 'rsa_pss_keygen_saltlen:32']],
  ])('a certificate for an %s key made by openssl gives the key id of its public key', async (algorithm, options) => {
    const base = join(dir, `cert-${algorithm}`);
    await openssl(['genpkey', '-algorithm', algorithm, ...options, '-out', `${base}.key.pem`]);
    const req = await openssl(['req', '-x509', '-new', '-key', `${base}.key.pem`, '-subj', '/CN=officer', '-days', '30', '-out', `${base}.crt.pem`]);
    expect(req.exitCode, req.stderr).toBe(0);
    await openssl(['pkey', '-in', `${base}.key.pem`, '-pubout', '-out', `${base}.pub.pem`]);
    const keyId = await opensslKeyId(`${base}.pub.pem`);
    const id = await runCli(['keys', 'id', `${base}.crt.pem`, '--json']);
    expect(JSON.parse(id.stdout)).toMatchObject({ file: `${base}.crt.pem`, kind: 'certificate', keyId });
    // The certificate's key, as openssl extracts it, has the same id.
    const extracted = await openssl(['x509', '-in', `${base}.crt.pem`, '-pubkey', '-noout']);
    await writeFile(`${base}.extracted.pem`, extracted.stdout);
    expect(await opensslKeyId(`${base}.extracted.pem`)).toBe(keyId);
  });

  it.each([
    ['RSA 2048', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'RSA key of 2048 bits; airlock requires 3072 or more'],
    ['RSA-PSS restricted to SHA-512', ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:3072', '-pkeyopt', 'rsa_pss_keygen_md:sha512', '-pkeyopt', 'rsa_pss_keygen_mgf1_md:sha512'], 'RSA-PSS key restricted to hash'],
    ['EC P-256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'unsupported key algorithm'],
  ])('%s is refused as KEY_INVALID naming the file', async (label, args, message) => {
    const file = join(dir, `refused-${label.replace(/\W+/g, '-')}.key.pem`);
    expect((await openssl(['genpkey', ...args, '-out', file])).exitCode).toBe(0);
    const error = await loadSigningKey(file, '').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AirlockError);
    expect((error as AirlockError).code).toBe('KEY_INVALID');
    expect((error as AirlockError).message).toContain(`${file}: ${message}`);
  });
});

describe('passphrases', () => {
  let keyFile: string;
  beforeAll(async () => {
    const made = await runCli(['keys', 'generate', '-n', 'pp', '-o', join(dir, 'pp'), '--passphrase-file', passFile]);
    expect(made.code, made.stderr).toBe(0);
    keyFile = join(dir, 'pp', 'pp.key.pem');
  });

  it('a wrong one is PASSPHRASE_WRONG naming the file, and neither passphrase is printed', async () => {
    const wrong = 'n0t-the-rïght-one';
    const result = await runCli(['keys', 'id', keyFile], { env: { AIRLOCK_PASSPHRASE: wrong } });
    expectFailure(result, 'PASSPHRASE_WRONG');
    expect(result.stderr).toContain(keyFile);
    expectNoSecret(result, wrong, PASS);
  });

  it('without file, environment or terminal, the command says how to give one', async () => {
    const result = await runCli(['keys', 'generate', '-n', 'nopass', '-o', join(dir, 'nopass')]);
    expectFailure(result, 'PASSPHRASE_REQUIRED');
    expect(result.stderr).toContain('--passphrase-file');
  });

  it('at a terminal, the prompt masks what is typed and asks twice for a new key', async () => {
    const out = join(dir, 'tty');
    const typed = 'typed-at-the-terminal';
    // script(1) gives the CLI a real pseudo-terminal; the sleeps let each prompt appear first.
    const session = await execa('bash', ['-c', `(sleep 1.5; printf '%s\\r' "$P"; sleep 0.7; printf '%s\\r' "$P"; sleep 2.5) | script -qec "$CMD" /dev/null`], {
      env: { P: typed, CMD: `${process.execPath} ${CLI} keys generate -n tty -o ${out}`, AIRLOCK_PASSPHRASE: '' },
      reject: false,
      timeout: 30_000,
    });
    expect(session.stdout).toContain('Passphrase for the new key tty');
    expect(session.stdout).toContain('Repeat it');
    expect(session.stdout).toContain('*'.repeat(typed.length));
    expect(session.stdout).not.toContain(typed);
    const opened = await openssl(['pkey', '-in', join(out, 'tty.key.pem'), '-passin', `pass:${typed}`, '-noout']);
    expect(opened.exitCode, `${session.stdout}\n${opened.stderr}`).toBe(0);
  });
});

describe('airlock keys list', () => {
  it('shows keys, roles, types, files, revocations and the policy', async () => {
    const store = join(dir, 'trust');
    await mkdir(store);
    const ids: Record<string, string> = {};
    for (const [name, extra] of [['build', []], ['officer', ['--type', 'rsa']], ['old', []]] as const) {
      const made = await runCli(['keys', 'generate', '-n', name, '-o', store, ...extra, '--passphrase-file', passFile, '--json']);
      expect(made.code, made.stderr).toBe(0);
      ids[name] = (JSON.parse(made.stdout) as { keyId: string }).keyId;
    }
    await writeFile(
      join(store, 'trust.yaml'),
      [
        'version: 2',
        'threshold: 2',
        'requiredRoles: [security]',
        'keys:',
        '  - { file: build.pub.pem, name: build-ci, roles: [build] }',
        '  - { file: officer.pub.pem, name: alice, roles: [security] }',
        '  - { file: old.pub.pem, name: old-laptop, roles: [build] }',
      ].join('\n'),
    );
    const elsewhere = 'ab'.repeat(32);
    await writeFile(join(store, 'revoked.txt'), `# lost\n${ids.old}\n${elsewhere}\n`);

    const human = await runCli(['keys', 'list', '--trust', store]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`Trust store ${store} (version 2)`);
    expect(human.stdout).toContain('Policy: 2 distinct trusted signature(s) of 3; required roles: security');
    expect(human.stdout).toMatch(new RegExp(`${ids.build}\\s+build-ci\\s+build\\s+ed25519\\s+build.pub.pem\\s+trusted`));
    expect(human.stdout).toMatch(new RegExp(`${ids.officer}\\s+alice\\s+security\\s+rsa-pss\\s+officer.pub.pem\\s+trusted`));
    expect(human.stdout).toMatch(new RegExp(`${ids.old}\\s+old-laptop\\s+build\\s+ed25519\\s+old.pub.pem\\s+REVOKED`));
    expect(human.stdout).toContain(`Also revoked (not in the store):\n  ${elsewhere}`);

    const json = await runCli(['keys', 'list', '--trust', store, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      version: 2,
      policy: { threshold: 2, requiredRoles: ['security'] },
      keys: [
        { keyId: ids.build, name: 'build-ci', roles: ['build'], type: 'ed25519', file: 'build.pub.pem', revoked: false },
        { keyId: ids.officer, name: 'alice', type: 'rsa-pss', revoked: false },
        { keyId: ids.old, revoked: true },
      ],
      revoked: [ids.old, elsewhere],
    });

    await writeFile(join(store, 'trust.yaml'), 'version: 2\nthreshold: 1\nkeys: []\n');
    const bad = await runCli(['keys', 'list', '--trust', store]);
    expectFailure(bad, 'TRUST_STORE_INVALID');
    expect(bad.stderr).toContain(`${join(store, 'trust.yaml')}: keys: `);
  });
});

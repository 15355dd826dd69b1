/**
 * airlock build as a build engineer runs it, and the bundle checked by stock tools alone.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';

const PASS = 'build passphrase';
const EPOCH = '1767225600';
const env = { AIRLOCK_PASSPHRASE: PASS, SOURCE_DATE_EPOCH: EPOCH };
const BUNDLE = 'shop-1.0.0.airlock';
let dir: string;
let keys: string;

async function build(manifest: string, out: string, key = 'build', extra: Record<string, string> = {}) {
  return runCli(['build', manifest, '--key', join(keys, `${key}.key.pem`), '--out', out], { env: { ...env, ...extra } });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-build-'));
  keys = join(dir, 'keys');
  for (const [name, type] of [['build', 'ed25519'], ['rsa', 'rsa'], ['officer', 'ed25519'], ['other', 'ed25519']]) {
    const made = await runCli(['keys', 'generate', '--name', name!, '--type', type!, '--out', keys], { env });
    expect(made.code, made.stderr).toBe(0);
  }
});

describe('reproducible builds', () => {
  it('gives byte-identical bundles for two builds, and for another checkout path with the same SOURCE_DATE_EPOCH', async () => {
    expect((await build('manifests/shop.yaml', join(dir, 'a'))).code).toBe(0);
    expect((await build('manifests/shop.yaml', join(dir, 'b'))).code).toBe(0);
    const elsewhere = join(dir, 'another', 'checkout');
    await mkdir(elsewhere, { recursive: true });
    await cp(resolve('manifests'), join(elsewhere, 'manifests'), { recursive: true });
    const third = await runCli(['build', 'manifests/shop.yaml', '--key', join(keys, 'build.key.pem'), '--out', join(dir, 'c')], { env, cwd: elsewhere });
    expect(third.code, third.stderr).toBe(0);

    const a = await readFile(join(dir, 'a', BUNDLE));
    expect(a.equals(await readFile(join(dir, 'b', BUNDLE)))).toBe(true);
    expect(a.equals(await readFile(join(dir, 'c', BUNDLE)))).toBe(true);
  });

  it('changes when an input changes', async () => {
    const copy = join(dir, 'changed');
    await cp(resolve('manifests'), copy, { recursive: true });
    const migration = join(copy, 'shop', '1.0.0', 'migrations', 'V1__create_customers.sql');
    await writeFile(migration, `${await readFile(migration, 'utf8')}-- edited\n`);
    expect((await build(join(copy, 'shop.yaml'), join(dir, 'changed-out'))).code).toBe(0);
    const original = await readFile(join(dir, 'a', BUNDLE));
    expect(original.equals(await readFile(join(dir, 'changed-out', BUNDLE)))).toBe(false);
  });
});

describe('verification with stock tools only', () => {
  for (const [key, verifyArgs] of [
    ['build', (pub: string, sig: string) => ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', 'SHA256SUMS', '-sigfile', sig]],
    ['rsa', (pub: string, sig: string) => ['dgst', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-verify', pub, '-signature', sig, 'SHA256SUMS']],
  ] as const) {
    it(`tar -xf, openssl (${key}) and sha256sum -c accept the bundle`, async () => {
      const out = join(dir, `stock-${key}`);
      const built = await build('manifests/shop.yaml', out, key);
      expect(built.code, built.stderr).toBe(0);
      const extracted = join(out, 'x');
      await mkdir(extracted);
      execFileSync('tar', ['-xf', join(out, BUNDLE), '-C', extracted]);
      const sig = (await readdir(join(extracted, 'signatures'))).find((f) => f.endsWith('.sig'))!;
      const openssl = execFileSync('openssl', verifyArgs(join(keys, `${key}.pub.pem`), join('signatures', sig)), { cwd: extracted, encoding: 'utf8' });
      expect(openssl).toMatch(/Signature Verified Successfully|Verified OK/);
      const sums = execFileSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: extracted, encoding: 'utf8' });
      expect(sums).toContain('airlock.json: OK');
      expect(sums).not.toContain('FAILED');

      await writeFile(join(extracted, 'SHA256SUMS'), (await readFile(join(extracted, 'SHA256SUMS'), 'utf8')).replace(/^./, (c) => (c === '0' ? '1' : '0')));
      expect(() => execFileSync('openssl', verifyArgs(join(keys, `${key}.pub.pem`), join('signatures', sig)), { cwd: extracted, stdio: 'pipe' })).toThrow();
    });
  }
});

describe('refusals leave nothing written', () => {
  it('reports every manifest problem with its YAML path and writes nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'name: shop\nversion: one\nconfigs:\n  prod:\n    - src: shop/1.0.0/configs/prod/shop\n    - dest: x\n    - src: /etc/passwd\n      dest: y\nsurprise: true\n');
    const out = join(dir, 'bad-out');
    const result = await build(bad, out);
    expect(result.code).toBe(exitCodeFor('MANIFEST_INVALID'));
    expect(result.stderr).toContain('version:');
    expect(result.stderr).toContain('configs.prod[0].dest: required');
    expect(result.stderr).toContain('configs.prod[1].src: required');
    expect(result.stderr).toContain('configs.prod[2].src:');
    expect(result.stderr).toContain('surprise');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('refuses a wrong passphrase without writing or echoing it', async () => {
    const out = join(dir, 'wrong-pass');
    const result = await build('manifests/shop.yaml', out, 'build', { AIRLOCK_PASSPHRASE: 'not the passphrase' });
    expect(result.code).toBe(exitCodeFor('PASSPHRASE_WRONG'));
    expect(result.stderr).toContain('build.key.pem');
    expect(result.stderr + result.stdout).not.toContain('not the passphrase');
    await expect(readdir(out)).rejects.toThrow();
  });

  it('names a missing source before a wrong passphrase, though the key is unlocked while the sources are listed', async () => {
    const missing = join(dir, 'missing-source.yaml');
    await writeFile(missing, 'name: shop\nversion: 1.0.0\nconfigs:\n  prod:\n    - src: no/such/dir\n      dest: x\n');
    const out = join(dir, 'missing-out');
    const result = await build(missing, out, 'build', { AIRLOCK_PASSPHRASE: 'not the passphrase' });
    expect(result.code).toBe(exitCodeFor('MANIFEST_INVALID'));
    expect(result.stderr).toContain('configs.prod[0].src: no such file');
    expect(result.stderr).not.toContain('PASSPHRASE_WRONG');
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe('countersigning', () => {
  it('adds a signature, keeps SHA256SUMS and payload byte-identical, and meets a 2-of-N policy with a security role', async () => {
    const out = join(dir, 'countersign');
    expect((await build('manifests/shop.yaml', out)).code).toBe(0);
    const bundle = join(out, BUNDLE);
    const before = execFileSync('tar', ['-xOf', bundle, 'SHA256SUMS']);

    const trust = join(dir, 'trust-2of3');
    await mkdir(trust);
    for (const name of ['build', 'officer', 'other']) await cp(join(keys, `${name}.pub.pem`), join(trust, `${name}.pub.pem`));
    await writeFile(
      join(trust, 'trust.yaml'),
      'version: 1\nthreshold: 2\nrequiredRoles: [security]\nkeys:\n' +
        '  - { file: build.pub.pem, name: build, roles: [build] }\n' +
        '  - { file: other.pub.pem, name: other builder, roles: [build] }\n' +
        '  - { file: officer.pub.pem, name: officer, roles: [security] }\n',
    );
    const once = await runCli(['verify', bundle, '--trust', trust]);
    expect(once.code).toBe(exitCodeFor('POLICY_THRESHOLD'));

    const signed = await runCli(['sign', bundle, '--key', join(keys, 'officer.key.pem')], { env });
    expect(signed.code, signed.stderr).toBe(0);
    expect(execFileSync('tar', ['-xOf', bundle, 'SHA256SUMS']).equals(before)).toBe(true);
    const verified = await runCli(['verify', bundle, '--trust', trust, '--json']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(report.signers.map((s: { name: string; status: string }) => `${s.name}:${s.status}`).sort()).toEqual(['build:valid', 'officer:valid']);

    // The payload bytes are untouched: every listed digest still matches after extraction.
    const extracted = join(out, 'x');
    await mkdir(extracted);
    execFileSync('tar', ['-xf', bundle, '-C', extracted]);
    expect(execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: extracted, encoding: 'utf8' })).toBe('');

    // Deterministic, and a second signature by the same key changes nothing.
    const again = await runCli(['sign', bundle, '--key', join(keys, 'officer.key.pem')], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already signed');
    const copy = join(dir, 'countersign-copy');
    expect((await build('manifests/shop.yaml', copy)).code).toBe(0);
    expect((await runCli(['sign', join(copy, BUNDLE), '--key', join(keys, 'officer.key.pem')], { env })).code).toBe(0);
    expect((await readFile(join(copy, BUNDLE))).equals(await readFile(bundle))).toBe(true);

    // Two build signatures without the security role do not meet the policy.
    const builders = join(dir, 'builders');
    expect((await build('manifests/shop.yaml', builders)).code).toBe(0);
    expect((await runCli(['sign', join(builders, BUNDLE), '--key', join(keys, 'other.key.pem')], { env })).code).toBe(0);
    const noOfficer = await runCli(['verify', join(builders, BUNDLE), '--trust', trust]);
    expect(noOfficer.code).toBe(exitCodeFor('POLICY_THRESHOLD'));
    expect(noOfficer.stderr).toContain('security');
  });

  it('refuses to countersign a bundle whose payload no longer matches SHA256SUMS', async () => {
    const out = join(dir, 'countersign-tampered');
    expect((await build('manifests/shop.yaml', out)).code).toBe(0);
    const bundle = join(out, BUNDLE);
    const data = await readFile(bundle);
    const at = data.indexOf('CREATE TABLE');
    data[at] = data[at]! ^ 0x20;
    await writeFile(bundle, data);
    const result = await runCli(['sign', bundle, '--key', join(keys, 'officer.key.pem')], { env });
    expect(result.code).toBe(exitCodeFor('DIGEST_MISMATCH'));
    expect((await readFile(bundle)).equals(data)).toBe(true);
  });
});

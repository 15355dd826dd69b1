/**
 * docs/VERIFY.md, followed literally by scripts/verify-runbook.sh with stock tools only:
 * good bundles signed with Ed25519 and RSA pass, and each kind of tampering is caught by
 * the step of the runbook meant to catch it.
 */
import { execa } from 'execa';
import { appendFile, copyFile, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { runCli } from '../support/cli.js';
import { bundleEntries, craftTar, flipByte } from '../support/tar-craft.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/verify-runbook.sh', import.meta.url));
const PASS = 'correct horse battery staple';
const STEP = {
  archive: '1. Look at the archive before extracting it',
  signedBy: '3. Find the signature by your trusted key',
  signature: '4. Verify the signature over SHA256SUMS',
  unlisted: '5. Nothing unlisted, nothing missing',
  digests: '6. Every file has its listed digest',
  expiry: '7. Read airlock.json: release, expiry, targets',
};

let dir: string;
const bundles: Record<'ed25519' | 'rsa' | 'expired', string> = { ed25519: '', rsa: '', expired: '' };
const keys: Record<'ed25519' | 'rsa', string> = { ed25519: '', rsa: '' };

async function build(name: string, key: string, epoch: string): Promise<string> {
  const out = join(dir, name);
  const built = await runCli(['build', 'manifests/shop.yaml', '--key', key, '--out', out], { env: { AIRLOCK_PASSPHRASE: PASS, SOURCE_DATE_EPOCH: epoch } });
  expect(built.code, built.stderr).toBe(0);
  return join(out, 'shop-1.0.0.airlock');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-runbook-'));
  for (const type of ['ed25519', 'rsa'] as const) {
    const made = await runCli(['keys', 'generate', '--name', type, '--type', type, '--out', join(dir, 'keys')], { env: { AIRLOCK_PASSPHRASE: PASS } });
    expect(made.code, made.stderr).toBe(0);
    keys[type] = join(dir, 'keys', `${type}.pub.pem`);
  }
  bundles.ed25519 = await build('ed25519', join(dir, 'keys', 'ed25519.key.pem'), '1767225600');
  bundles.rsa = await build('rsa', join(dir, 'keys', 'rsa.key.pem'), '1767225600');
  // shop.yaml expires 730 days after it was built: built in 2000, long expired.
  bundles.expired = await build('expired', join(dir, 'keys', 'ed25519.key.pem'), '946684800');
});

/** A verdict line: the runbook's own FAIL, or openssl's. */
const FAILED_LINE = /^(FAIL: |Signature Verification Failure|Verification failure)/;

let counter = 0;
/** `typed`: as an officer types it into an interactive shell (no set -e; a block's last status decides). */
async function runbook(bundle: string, trustedPem: string, typed = false) {
  const work = join(dir, `work-${counter++}`);
  await mkdir(work);
  const result = await execa('bash', [SCRIPT, ...(typed ? ['--as-typed'] : []), bundle, trustedPem, work], { reject: false });
  return { code: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function variant(make: (file: string) => Promise<void>): Promise<string> {
  const file = join(dir, `variant-${counter++}.airlock`);
  await copyFile(bundles.ed25519, file);
  await make(file);
  return file;
}

async function signaturePath(file: string): Promise<string> {
  const reader = await BundleReader.open(file);
  const path = reader.entries.find((entry) => entry.path.endsWith('.sig'))!.path;
  await reader.close();
  return path;
}

/** GNU tar appends an entry after the bundle's last one (over its end-of-archive blocks). */
async function appendEntry(file: string, name: string, make: (path: string) => Promise<void>): Promise<void> {
  const source = join(dir, `append-${counter++}`);
  await mkdir(source);
  await make(join(source, name));
  const appended = await execa('tar', ['-rf', file, '-C', source, name], { reject: false });
  expect(appended.exitCode, appended.stderr).toBe(0);
}

function expectFailedAt(result: { code: number | undefined; stdout: string; stderr: string }, step: string): void {
  expect(result.code, result.stdout + result.stderr).not.toBe(0);
  expect(result.stderr).toContain(`verify-runbook: FAILED at step: ${step}`);
  expect(result.stdout).toContain('FAIL');
}

describe('docs/VERIFY.md with stock tools', () => {
  it('passes an Ed25519-signed bundle, with openssl pkeyutl', async () => {
    const result = await runbook(bundles.ed25519, keys.ed25519);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('Signature Verified Successfully');
    expect(result.stdout).toContain('OK: the bundle holds exactly the files SHA256SUMS lists');
    expect(result.stdout).not.toContain('FAIL');
    expect(result.stderr).toContain('verify-runbook: every step passed');
  });

  it('passes an RSA-PSS-signed bundle, with openssl dgst', async () => {
    const result = await runbook(bundles.rsa, keys.rsa);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified OK');
    expect(result.stdout).not.toContain('FAIL');
  });

  it('finds no signature by the trusted key when another key signed', async () => {
    expectFailedAt(await runbook(bundles.rsa, keys.ed25519), STEP.signedBy);
  });

  it('catches a flipped signature byte at the signature step', async () => {
    const file = await variant(async (f) => flipByte(f, await signaturePath(f)));
    const result = await runbook(file, keys.ed25519);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`verify-runbook: FAILED at step: ${STEP.signature}`);
    expect(result.stdout + result.stderr).toContain('Signature Verification Failure');
  });

  it('catches a flipped byte in SHA256SUMS at the signature step', async () => {
    const file = await variant((f) => flipByte(f, 'SHA256SUMS'));
    const result = await runbook(file, keys.ed25519);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`verify-runbook: FAILED at step: ${STEP.signature}`);
  });

  it('catches a tampered payload byte at the digest step, naming the file', async () => {
    const file = await variant((f) => flipByte(f, 'migrations/shop/V2__create_orders.sql'));
    const result = await runbook(file, keys.ed25519);
    expectFailedAt(result, STEP.digests);
    expect(result.stdout).toContain('migrations/shop/V2__create_orders.sql: FAILED');
  });

  it('catches a file SHA256SUMS does not list', async () => {
    const file = await variant(async (f) => {
      const entries = await bundleEntries(f);
      await writeFile(f, craftTar([...entries, { path: 'extra.sh', data: Buffer.from('echo surprise\n'), mtime: entries[0]!.mtime }]));
    });
    const result = await runbook(file, keys.ed25519);
    expectFailedAt(result, STEP.unlisted);
    expect(result.stdout).toMatch(/^extra\.sh$/m);
  });

  it('catches a file appended with tar -rf before extracting anything: GNU tar pads the archive past its end', async () => {
    const file = await variant((f) => appendEntry(f, 'extra.sh', (path) => writeFile(path, 'echo surprise\n')));
    const result = await runbook(file, keys.ed25519);
    expectFailedAt(result, STEP.archive);
    expect(result.stdout).toContain('FAIL: data after the end of the archive');
  });

  it('catches an appended symbolic link before extracting anything', async () => {
    const file = await variant((f) => appendEntry(f, 'passwd', (path) => symlink('/etc/passwd', path)));
    const result = await runbook(file, keys.ed25519);
    expectFailedAt(result, STEP.archive);
    expect(result.stdout).toMatch(/^l.* passwd -> \/etc\/passwd$/m);
  });

  it('catches data appended after the end of the archive before extracting anything', async () => {
    const file = await variant((f) => appendFile(f, 'junk after the end-of-archive blocks'));
    const result = await runbook(file, keys.ed25519);
    expectFailedAt(result, STEP.archive);
    expect(result.stdout).toContain('FAIL: data after the end of the archive');
  });

  it('catches an expired bundle at the airlock.json step', async () => {
    const result = await runbook(bundles.expired, keys.ed25519);
    expectFailedAt(result, STEP.expiry);
    expect(result.stdout).toContain('FAIL: expired at 2001-12-31T00:00:00Z');
  });
});

describe('docs/VERIFY.md as an officer types it, without set -e', () => {
  it('passes the good bundles', async () => {
    for (const type of ['ed25519', 'rsa'] as const) {
      const result = await runbook(bundles[type], keys[type], true);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).not.toContain('FAIL');
    }
  });

  it('a tampered file prints only FAIL at the digest step, never "files match", and the status is non-zero', async () => {
    const file = await variant((f) => flipByte(f, 'migrations/shop/V2__create_orders.sql'));
    const result = await runbook(file, keys.ed25519, true);
    expect(result.code, result.stdout + result.stderr).not.toBe(0);
    expect(result.stderr).toContain(`verify-runbook: FAILED at step: ${STEP.digests}`);
    expect(result.stdout).toContain('migrations/shop/V2__create_orders.sql: FAILED');
    expect(result.stdout).toContain('FAIL: the files above do not match SHA256SUMS');
    expect(result.stdout).not.toMatch(/files match SHA256SUMS/);
  });

  it('no step prints OK after a FAIL, and every failure ends with a non-zero status, for every kind of tampering', async () => {
    const cases: Array<[string, () => Promise<string>, string]> = [
      ['another key signed', async () => bundles.rsa, keys.ed25519],
      ['a flipped signature byte', () => variant(async (f) => flipByte(f, await signaturePath(f))), keys.ed25519],
      ['a flipped SHA256SUMS byte', () => variant((f) => flipByte(f, 'SHA256SUMS')), keys.ed25519],
      ['an unlisted file appended', () => variant((f) => appendEntry(f, 'extra.sh', (path) => writeFile(path, 'echo surprise\n'))), keys.ed25519],
      ['a symbolic link appended', () => variant((f) => appendEntry(f, 'passwd', (path) => symlink('/etc/passwd', path))), keys.ed25519],
      ['junk appended', () => variant((f) => appendFile(f, 'junk')), keys.ed25519],
      ['an expired bundle', async () => bundles.expired, keys.ed25519],
    ];
    for (const [label, make, pem] of cases) {
      const result = await runbook(await make(), pem, true);
      expect(result.code, `${label}: ${result.stdout}${result.stderr}`).not.toBe(0);
      const lines = result.stdout.split('\n');
      const failed = lines.findIndex((line) => FAILED_LINE.test(line));
      expect(failed, `${label}: no FAIL printed\n${result.stdout}`).toBeGreaterThanOrEqual(0);
      expect(lines.slice(failed + 1).filter((line) => line.startsWith('OK: ')), label).toEqual([]);
    }
  });
});

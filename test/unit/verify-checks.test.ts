/**
 * Each named check of the verifier on its own: layout, signatures, contents, freshness,
 * header times and the paths airlock.json names. Bundles are real ones written by
 * src/bundle/write.ts and signed with real keys.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseChecksums } from '../../src/bundle/checksums.js';
import { bytesPayload, type PayloadFile } from '../../src/bundle/payload.js';
import { BundleReader, type BundleEntry } from '../../src/bundle/reader.js';
import { writeBundle, type BundleSigner } from '../../src/bundle/write.js';
import { bundleSigner } from '../../src/build/signers.js';
import { ed25519PrivateKeyInfo } from '../../src/trust/ed25519.js';
import { parseSigningKeyPem, type SigningKey } from '../../src/trust/keys.js';
import { encodePem } from '../../src/trust/pem.js';
import { loadTrustStore, type TrustStore } from '../../src/trust/store.js';
import { checkContents } from '../../src/verify/check-contents.js';
import { checkExpiry } from '../../src/verify/check-freshness.js';
import { checkHeaderTimes } from '../../src/verify/check-headers.js';
import { checkLayout } from '../../src/verify/check-layout.js';
import { checkManifestPaths } from '../../src/verify/check-paths.js';
import { checkSignatures } from '../../src/verify/check-signatures.js';
import { bundleManifest } from '../support/bundle-manifest.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
let dir: string;
let alice: SigningKey;
let bob: SigningKey;
let stranger: SigningKey;
let trust: TrustStore;

async function key(seed: number): Promise<SigningKey> {
  return parseSigningKeyPem(encodePem('PRIVATE KEY', ed25519PrivateKeyInfo(Buffer.alloc(32, seed))), `key-${seed}`, '');
}

const PAYLOAD: PayloadFile[] = [
  bytesPayload('configs/prod/app.yaml', Buffer.from('port: 8080\n')),
  bytesPayload('hooks/check.sh', Buffer.from('#!/bin/sh\nexit 0\n'), 0o755),
  bytesPayload('migrations/shop/V1__init.sql', Buffer.from('create table t (id int);\n')),
];

let counter = 0;
async function bundle(signers: BundleSigner[], payload = PAYLOAD): Promise<BundleReader> {
  const file = join(dir, `b-${counter++}.airlock`);
  await writeBundle({ file, manifest: Buffer.from('{}\n'), payload, signers, mtime: CREATED });
  return BundleReader.open(file);
}

async function signaturesOf(reader: BundleReader, store = trust) {
  const layout = checkLayout(reader.entries, reader.file);
  return checkSignatures(reader, await reader.readFile('SHA256SUMS'), layout.signatures, store, NOW);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-checks-'));
  [alice, bob, stranger] = await Promise.all([key(1), key(2), key(3)]);
  const store = join(dir, 'trust');
  await mkdir(store);
  await writeFile(join(store, 'trust.yaml'), 'version: 1\nthreshold: 2\nkeys:\n  - { file: alice.pub.pem, name: alice }\n  - { file: bob.pub.pem, name: bob }\n');
  await writeFile(join(store, 'alice.pub.pem'), alice.publicKeyPem);
  await writeFile(join(store, 'bob.pub.pem'), bob.publicKeyPem);
  trust = await loadTrustStore(store);
});

function entry(path: string, at = 0): BundleEntry {
  return { path, size: 1, dataOffset: at, headerOffset: at, mode: path.startsWith('hooks/') ? 0o755 : 0o644, mtime: CREATED };
}

describe('checkLayout', () => {
  const id = 'a'.repeat(64);
  const good = ['SHA256SUMS', `signatures/${id}.pem`, `signatures/${id}.sig`, 'airlock.json', 'configs/prod/app.yaml'];
  const codes = (paths: string[]) => checkLayout(paths.map((path) => entry(path)), 'b').problems.map((p) => `${p.code} ${p.message}`);

  it('accepts SHA256SUMS, the signature files, then airlock.json and the payload, pairing each .sig with its .pem', () => {
    const { problems, signatures } = checkLayout(good.map((path) => entry(path)), 'b');
    expect(problems).toEqual([]);
    expect(signatures.map((s) => [s.keyId, s.signature.path, s.publicKey?.path])).toEqual([[id, `signatures/${id}.sig`, `signatures/${id}.pem`]]);
  });

  it.each([
    ['SHA256SUMS not first', ['airlock.json', ...good.slice(1)], 'BUNDLE_FORMAT b: first entry must be SHA256SUMS, found airlock.json'],
    ['a signature file of another name', ['SHA256SUMS', 'signatures/notes.txt', `signatures/${id}.sig`, 'airlock.json'], 'BUNDLE_FORMAT signatures/notes.txt: not signatures/<key id>.sig or .pem'],
    ['a key id in capitals', ['SHA256SUMS', `signatures/${id.toUpperCase()}.sig`, `signatures/${id}.sig`, 'airlock.json'], `BUNDLE_FORMAT signatures/${id.toUpperCase()}.sig: not signatures/<key id>.sig or .pem`],
    ['a .pem without its .sig', ['SHA256SUMS', `signatures/${id}.pem`, 'airlock.json'], `BUNDLE_FORMAT signatures/${id}.pem has no .sig beside it`],
    ['airlock.json not right after the signatures', ['SHA256SUMS', `signatures/${id}.sig`, 'configs/x', 'airlock.json'], 'BUNDLE_FORMAT b: airlock.json must follow the signatures, found configs/x'],
    ['a signature after airlock.json', [...good, `signatures/${'b'.repeat(64)}.sig`], `BUNDLE_FORMAT signatures/${'b'.repeat(64)}.sig: must come before airlock.json`],
    ['no signature at all', ['SHA256SUMS', 'airlock.json'], 'SIGNATURE_MISSING b: carries no signature'],
  ])('refuses %s', (_, paths, problem) => {
    expect(codes(paths).some((line) => line.startsWith(problem))).toBe(true);
  });
});

describe('checkSignatures', () => {
  it('two trusted signers meet 2 of 2; each signer is reported with its full key id', async () => {
    const reader = await bundle([bundleSigner(alice), bundleSigner(bob)]);
    const result = await signaturesOf(reader);
    await reader.close();
    expect(result.problems).toEqual([]);
    expect(result.policy).toMatchObject({ met: true, counted: [alice.keyId, bob.keyId].sort() });
    expect(result.signers.map((s) => [s.keyId, s.status, s.name]).sort()).toEqual([[alice.keyId, 'valid', 'alice'], [bob.keyId, 'valid', 'bob']].sort());
  });

  it('one trusted signer and a stranger fall short, naming both by full key id', async () => {
    const reader = await bundle([bundleSigner(alice), bundleSigner(stranger)]);
    const result = await signaturesOf(reader);
    await reader.close();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.code).toBe('POLICY_THRESHOLD');
    expect(result.problems[0]!.message).toContain(`unknown key ${stranger.keyId}`);
    expect(result.problems[0]!.message).toContain(`${alice.keyId} (valid)`);
  });

  it('a signature that does not verify refuses, even when the others meet the policy', async () => {
    const broken: BundleSigner = { ...bundleSigner(bob), sign: (data) => Buffer.from(bob.sign(Buffer.concat([data, Buffer.from('x')]))) };
    const reader = await bundle([bundleSigner(alice), broken]);
    const result = await signaturesOf(reader, { ...trust, policy: { threshold: 1, requiredRoles: [] } });
    await reader.close();
    expect(result.problems.map((p) => p.code)).toEqual(['SIGNATURE_INVALID']);
    expect(result.problems[0]!.message).toBe(`signatures/${bob.keyId}.sig: does not verify over SHA256SUMS with trusted key bob (${bob.keyId}): SHA256SUMS or the signature was altered`);
  });

  it('a .pem holding another key than its name says is a format error', async () => {
    const lying: BundleSigner = { ...bundleSigner(alice), publicKeyPem: bob.publicKeyPem };
    const reader = await bundle([lying, bundleSigner(bob)]);
    const result = await signaturesOf(reader);
    await reader.close();
    expect(result.problems.map((p) => `${p.code} ${p.message}`)).toEqual([`BUNDLE_FORMAT signatures/${alice.keyId}.pem: holds key ${bob.keyId}, not the key ${alice.keyId} its name says`]);
  });
});

describe('checkContents', () => {
  it('names files missing, extra and altered against SHA256SUMS', async () => {
    const reader = await bundle([bundleSigner(alice)]);
    const listed = parseChecksums(await reader.readFile('SHA256SUMS'));
    expect(await checkContents(reader, listed)).toEqual([]);
    const changed = new Map(listed);
    changed.delete('hooks/check.sh');
    changed.set('configs/prod/gone.yaml', '0'.repeat(64));
    changed.set('configs/prod/app.yaml', '1'.repeat(64));
    const problems = await checkContents(reader, changed);
    await reader.close();
    expect(problems.map((p) => `${p.code} ${p.path}`).sort()).toEqual(['DIGEST_MISMATCH configs/prod/app.yaml', 'FILE_EXTRA hooks/check.sh', 'FILE_MISSING configs/prod/gone.yaml']);
  });

  it('reports running totals of the listed files hashed, ending at all of them', async () => {
    const reader = await bundle([bundleSigner(alice)]);
    const listed = parseChecksums(await reader.readFile('SHA256SUMS'));
    const reports: number[][] = [];
    expect(await checkContents(reader, listed, (...totals) => reports.push(totals))).toEqual([]);
    await reader.close();
    // airlock.json and the three payload files: 3 + 11 + 17 + 25 bytes.
    expect(reports.map(([, totalBytes, , totalFiles]) => [totalBytes, totalFiles])).toEqual(Array(4).fill([56, 4]));
    expect(reports.map(([, , doneFiles]) => doneFiles)).toEqual([1, 2, 3, 4]);
    expect(reports.at(-1)![0]).toBe(56);
  });
});

describe('checkExpiry', () => {
  it('refuses a bundle at or past its expiry, and never one without', () => {
    expect(checkExpiry(bundleManifest({ expires: null }), NOW)).toEqual([]);
    expect(checkExpiry(bundleManifest({ expires: '2026-06-01T00:00:01Z' }), NOW)).toEqual([]);
    expect(checkExpiry(bundleManifest({ expires: NOW.toISOString() }), NOW).map((p) => p.code)).toEqual(['EXPIRED']);
  });
});

describe('checkHeaderTimes', () => {
  it('holds every header to the created time, naming the first that differs and counting the rest', async () => {
    const reader = await bundle([bundleSigner(alice)]);
    expect(checkHeaderTimes(reader.entries, '2026-01-01T00:00:00Z', 'b')).toEqual([]);
    const problems = checkHeaderTimes(reader.entries, '2026-01-01T00:00:01Z', 'b');
    const first = reader.entries[0]!;
    await reader.close();
    expect(problems.map((p) => `${p.code} ${p.message}`)).toEqual([
      `BUNDLE_FORMAT b: SHA256SUMS (entry at byte ${first.headerOffset}): its tar header records mtime 2026-01-01T00:00:00.000Z, not the release's created time 2026-01-01T00:00:01Z from airlock.json (and ${reader.entries.length - 1} other entries)`,
    ]);
  });
});

describe('checkManifestPaths', () => {
  const listed = new Map(['configs/prod/app.yaml', 'configs/staging/app.yaml', 'hooks/check.sh', 'migrations/shop/V1__init.sql', 'migrations/shop/U1__init.sql', 'migrations/audit/V1__x.sql'].map((path) => [path, '0'.repeat(64)]));
  const hook = (path: string) => ({ name: 'h', path, timeoutSeconds: 5 });
  const config = (path: string) => ({ path, dest: 'app.yaml', mode: '0640', template: false });
  const migration = (path: string, undo?: string) => ({ path, version: '1', description: 'init', ...(undo ? { undo } : {}) });
  const check = (patch: Parameters<typeof bundleManifest>[0]) => checkManifestPaths(bundleManifest(patch), listed).map((p) => `${p.code} ${p.message}`);

  it('accepts each file under its kind', () => {
    expect(
      check({
        configs: { prod: [config('configs/prod/app.yaml')] },
        migrations: { shop: [migration('migrations/shop/V1__init.sql', 'migrations/shop/U1__init.sql')] },
        hooks: { preInstall: [hook('hooks/check.sh')], postInstall: [], healthCheck: [hook('hooks/check.sh')] },
      }),
    ).toEqual([]);
  });

  it.each([
    ['a config file named as a pre-install hook', { hooks: { preInstall: [hook('configs/prod/app.yaml')], postInstall: [], healthCheck: [] } }, 'BUNDLE_FORMAT airlock.json: hooks.preInstall[0].path: configs/prod/app.yaml is not under hooks/'],
    ['a migration named as a health check', { hooks: { preInstall: [], postInstall: [], healthCheck: [hook('migrations/shop/V1__init.sql')] } }, 'BUNDLE_FORMAT airlock.json: hooks.healthCheck[0].path: migrations/shop/V1__init.sql is not under hooks/'],
    ['a config of another environment', { configs: { prod: [config('configs/staging/app.yaml')] } }, 'BUNDLE_FORMAT airlock.json: configs.prod[0].path: configs/staging/app.yaml is not under configs/prod/'],
    ['a hook named as a config', { configs: { prod: [config('hooks/check.sh')] } }, 'BUNDLE_FORMAT airlock.json: configs.prod[0].path: hooks/check.sh is not under configs/prod/'],
    ['a migration of another database', { migrations: { shop: [migration('migrations/audit/V1__x.sql')] } }, 'BUNDLE_FORMAT airlock.json: migrations.shop[0].path: migrations/audit/V1__x.sql is not under migrations/shop/'],
    ['an undo script elsewhere', { migrations: { shop: [migration('migrations/shop/V1__init.sql', 'hooks/check.sh')] } }, 'BUNDLE_FORMAT airlock.json: migrations.shop[0].undo: hooks/check.sh is not under migrations/shop/'],
    ['an environment name with a slash', { configs: { 'prod/..': [config('configs/prod/../app.yaml')] } }, 'BUNDLE_FORMAT airlock.json: configs: "prod/.." is not a name (one path component)'],
    ['a file SHA256SUMS does not list', { hooks: { preInstall: [hook('hooks/missing.sh')], postInstall: [], healthCheck: [] } }, 'FILE_MISSING airlock.json: hooks.preInstall[0].path: hooks/missing.sh is not in the bundle (SHA256SUMS does not list it)'],
  ])('refuses %s', (_, patch, problem) => {
    expect(check(patch as Parameters<typeof bundleManifest>[0])).toEqual([problem]);
  });
});

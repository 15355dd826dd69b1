/**
 * loadVerified's strategies, on real signed bundles and a real trust store: what an unreadable
 * bundle becomes, which checks run (the signed listing reads no payload byte but airlock.json's;
 * the payload stage hashes everything), and what --allow-expired sets aside (the expiry, and
 * nothing else). The order of problems is the verdict's: a damaged bundle is damaged first.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleSigner } from '../../src/build/signers.js';
import { bytesPayload } from '../../src/bundle/payload.js';
import { writeBundle } from '../../src/bundle/write.js';
import { generateKeyPair } from '../../src/trust/generate.js';
import { parseSigningKeyPem, type SigningKey } from '../../src/trust/keys.js';
import { loadTrustStore, type TrustStore } from '../../src/trust/store.js';
import { loadVerified, withVerified, type BundleInput, type LoadStrategy } from '../../src/verify/load-verified.js';
import { bundleManifest } from '../support/bundle-manifest.js';
import { rejection } from '../support/errors.js';
import { flipByte } from '../support/tar-craft.js';
import { watchedBundle } from '../support/watched-bundle.js';

let dir: string;
let signer: SigningKey;
let stranger: SigningKey;
let trust: TrustStore;
const EXPIRES = '2030-01-01T00:00:00Z';
const before = new Date('2029-01-01T00:00:00Z');
const after = new Date('2031-01-01T00:00:00Z');
const PAYLOAD = ['configs/prod/app.yaml', 'migrations/shop/V1__one.sql', 'hooks/check.sh'];

async function key(): Promise<SigningKey> {
  const pair = await generateKeyPair({ type: 'ed25519', passphrase: 'unit' });
  return parseSigningKeyPem(pair.privateKeyPem, 'key', 'unit');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-load-'));
  [signer, stranger] = await Promise.all([key(), key()]);
  const store = join(dir, 'trust');
  await mkdir(store);
  await writeFile(join(store, 'build.pub.pem'), signer.publicKeyPem);
  trust = await loadTrustStore(store);
});

let built = 0;
async function bundle(options: { signedBy?: SigningKey[]; tamper?: string } = {}): Promise<string> {
  const file = join(dir, `b${built++}.airlock`);
  await writeBundle({
    file,
    manifest: Buffer.from(`${JSON.stringify(bundleManifest({ expires: EXPIRES }))}\n`),
    payload: PAYLOAD.map((path, i) => bytesPayload(path, Buffer.from(`content ${i} of ${path}\n`), path.startsWith('hooks/') ? 0o755 : 0o644)),
    signers: (options.signedBy ?? [signer]).map(bundleSigner),
    mtime: new Date('2026-01-01T00:00:00Z'),
  });
  if (options.tamper) await flipByte(file, options.tamper, 2);
  return file;
}

const listing = (now = before, allowExpired = false): LoadStrategy => ({ checks: 'listing', trust, now, allowExpired, unreadable: 'throw' });
const payload = (now = before, allowExpired = false): LoadStrategy => ({ checks: 'payload', trust, now, allowExpired, unreadable: 'report' });
const codes = (report: { problems: Array<{ code: string; path?: string }> }) => report.problems.map((p) => `${p.code}${p.path ? ` ${p.path}` : ''}`);

/** A bundle file whose reads are recorded, by the entry whose data they touch. */
async function recorded(file: string): Promise<{ input: BundleInput; touched: Set<string> }> {
  const touched = new Set<string>();
  const watched = await watchedBundle(file, (position, length) => {
    // A header scan reads whole windows; what counts is an exact read of one entry's data.
    for (const entry of watched.entries) if (position === entry.dataOffset && length === entry.size) touched.add(entry.path);
  });
  return { input: watched.input, touched };
}

describe('loadVerified', () => {
  it('vouches for the signed listing without reading a payload file, and hashes the payload only when asked', async () => {
    const file = await bundle({ tamper: PAYLOAD[1] });
    const { input, touched } = await recorded(file);
    const loaded = await loadVerified(input, listing());
    try {
      expect(loaded.report.ok).toBe(true);
      const release = loaded.release();
      expect(release).toMatchObject({ file, manifest: { name: 'shop', version: '1.1.0' }, signers: [{ keyId: signer.keyId }], waived: [], overrides: [] });
      expect(release.digest).toMatch(/^[0-9a-f]{64}$/);
      expect([...touched].filter((path) => PAYLOAD.includes(path))).toEqual([]);
      expect(touched.has('airlock.json')).toBe(true);

      const error = await rejection(loaded.verifyPayload());
      expect(error.code).toBe('DIGEST_MISMATCH');
      expect(error.message).toContain(PAYLOAD[1]);
      expect(codes(loaded.report)).toEqual([`DIGEST_MISMATCH ${PAYLOAD[1]}`]);
      // Asked again, the same verdict: the payload is hashed once.
      expect((await rejection(loaded.verifyPayload())).code).toBe('DIGEST_MISMATCH');
    } finally {
      await loaded.close();
    }
  });

  it('gives a bundle whose payload verifies as a reader that re-checks every file it reads', async () => {
    const loaded = await loadVerified(await bundle(), listing());
    try {
      const verified = await loaded.verifyPayload();
      expect((await verified.read(PAYLOAD[0]!)).toString()).toBe(`content 0 of ${PAYLOAD[0]}\n`);
      expect(verified.checksum(PAYLOAD[2]!)).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await loaded.close();
    }
  });

  it('runs both stages at once with payload checks, reporting every problem without throwing', async () => {
    const report = await withVerified(await bundle({ tamper: PAYLOAD[0] }), payload(), (loaded) => loaded.report);
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual([`DIGEST_MISMATCH ${PAYLOAD[0]}`]);
  });

  it('reports an unreadable bundle, or throws it, as asked; a path that is not there is always thrown', async () => {
    const garbage = join(dir, 'garbage.airlock');
    await writeFile(garbage, Buffer.alloc(2048, 0x41));
    const reported = await loadVerified(garbage, payload());
    expect(reported.reader).toBeUndefined();
    expect(codes(reported.report)).toEqual(['BUNDLE_FORMAT']);
    expect((() => reported.release()) as () => unknown).toThrow(expect.objectContaining({ code: 'BUNDLE_FORMAT' }));
    expect((await rejection(loadVerified(garbage, listing()))).code).toBe('BUNDLE_FORMAT');
    for (const strategy of [listing(), payload()]) expect((await rejection(loadVerified(join(dir, 'absent.airlock'), strategy))).code).toBe('INPUT_NOT_FOUND');
  });

  it('stops at the signatures: an untrusted bundle is neither described nor hashed', async () => {
    const loaded = await loadVerified(await bundle({ signedBy: [stranger] }), listing());
    try {
      expect(codes(loaded.report)).toEqual(['SIGNATURE_UNTRUSTED']);
      expect(loaded.report.manifest).toBeUndefined();
      expect((await rejection(loaded.verifyPayload())).code).toBe('SIGNATURE_UNTRUSTED');
    } finally {
      await loaded.close();
    }
  });

  it('checks airlock.json against its own line before trusting what it says', async () => {
    const report = await withVerified(await bundle({ tamper: 'airlock.json' }), payload(after), (loaded) => loaded.report);
    // Not judged expired, nor hashed: nothing it says can be trusted.
    expect(codes(report)).toEqual(['DIGEST_MISMATCH airlock.json']);
    expect(report.manifest).toBeUndefined();
  });

  it('lays out a bundle for countersigning without a trust store', async () => {
    const unsigned = await bundle({ signedBy: [] });
    const layout = await withVerified(unsigned, { checks: 'layout', unreadable: 'throw' }, (loaded) => ({ codes: codes(loaded.report), signatures: loaded.signatureFiles.length }));
    expect(layout).toEqual({ codes: ['SIGNATURE_MISSING'], signatures: 0 });
    const signed = await withVerified(await bundle({ signedBy: [signer, stranger] }), { checks: 'layout', unreadable: 'throw' }, (loaded) => loaded.signatureFiles.map((f) => f.keyId).sort());
    expect(signed).toEqual([signer.keyId, stranger.keyId].sort());
  });
});

describe('--allow-expired', () => {
  it('sets aside an expiry, and only when asked', async () => {
    const file = await bundle();
    const refused = await loadVerified(file, listing(after));
    try {
      expect(codes(refused.report)).toEqual(['EXPIRED airlock.json']);
      expect((() => refused.release()) as () => unknown).toThrow(expect.objectContaining({ code: 'EXPIRED' }));
      // The release is still named: the report says what expired.
      expect(refused.report.manifest?.version).toBe('1.1.0');
    } finally {
      await refused.close();
    }
    const allowed = await loadVerified(file, listing(after, true));
    try {
      expect(allowed.report.ok).toBe(true);
      expect(allowed.release()).toMatchObject({ waived: [expect.objectContaining({ code: 'EXPIRED' })], overrides: ['--allow-expired'] });
      await allowed.verifyPayload();
    } finally {
      await allowed.close();
    }
  });

  it('is not recorded when nothing was expired', async () => {
    const loaded = await loadVerified(await bundle(), listing(before, true));
    try {
      expect(loaded.release()).toMatchObject({ waived: [], overrides: [] });
    } finally {
      await loaded.close();
    }
  });

  it('never sets aside any other problem, and a damaged bundle is reported damaged before expired', async () => {
    const file = await bundle({ tamper: PAYLOAD[2] });
    const loaded = await loadVerified(file, listing(after, true));
    try {
      loaded.release();
      expect((await rejection(loaded.verifyPayload())).code).toBe('DIGEST_MISMATCH');
    } finally {
      await loaded.close();
    }
    const report = await withVerified(file, payload(after), (verified) => verified.report);
    expect(codes(report)).toEqual([`DIGEST_MISMATCH ${PAYLOAD[2]}`, 'EXPIRED airlock.json']);
  });
});

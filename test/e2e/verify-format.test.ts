/**
 * Issue 10, end to end with the real CLI and real bundles: every accepted byte is signed,
 * and every key counts once.
 *
 * - A bundle signed by a trusted key whose airlock.json names a config file as a
 *   pre-install hook is refused; install runs nothing and audits the refusal.
 * - Data after the end-of-archive marker, and malformed headers, are BUNDLE_FORMAT (never
 *   INTERNAL), also for install, which audits them as refused.
 * - Many random single-byte changes anywhere outside the signature files never verify.
 * - One RSA key signing under two key ids (listed, and certified in another encoding)
 *   is one vote: threshold 2 is not met.
 */
import { execa } from 'execa';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/base/errors.js';
import { bundleSigner } from '../../src/build/signers.js';
import { CHECKSUMS_PATH, isSignaturePath, MANIFEST_PATH, TAR_BLOCK } from '../../src/bundle/format.js';
import type { PayloadFile } from '../../src/bundle/payload.js';
import { BundleReader, type BundleEntry } from '../../src/bundle/reader.js';
import { writeBundle, type BundleSigner } from '../../src/bundle/write.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import type { BundleManifest } from '../../src/manifest/bundle-manifest.js';
import { encodeName, issueCertificate } from '../../src/trust/certificate-build.js';
import { ed25519PrivateKeyInfo } from '../../src/trust/ed25519.js';
import { keyIdOf } from '../../src/trust/key-id.js';
import { loadSigningKey, parseSigningKeyPem, type SigningKey } from '../../src/trust/keys.js';
import { decodePemBlocks, encodePem } from '../../src/trust/pem.js';
import { loadTrustStore } from '../../src/trust/store.js';
import { loadVerified } from '../../src/verify/load-verified.js';
import { runCli } from '../support/cli.js';
import { auditLines, install, makeFixture, makeSite, type Fixture } from '../support/install-fixture.js';
import { rsaEncodings, seeded } from '../support/key-encodings.js';
import { base256Field, fixHeaderChecksum } from '../support/tar-craft.js';

let fixture: Fixture;
let key: SigningKey;
/** shop 1.1.0 with one more config file, configs/prod/shop/evil.sh, a script that leaves a marker. */
let bundle: string;
let marker: string;
let entries: BundleEntry[];

beforeAll(async () => {
  fixture = await makeFixture();
  marker = join(fixture.dir, 'PWNED');
  const text = (await fixture.manifest('shop-1.1.0.yaml')).replace(
    '    - src: shop/1.1.0/configs/prod/nginx\n',
    '    - src: variants/evil.sh\n      dest: shop/evil.sh\n    - src: shop/1.1.0/configs/prod/nginx\n',
  );
  bundle = await fixture.build(text, { 'variants/evil.sh': `#!/bin/sh\ntouch ${marker}\n` });
  key = await loadSigningKey(join(fixture.dir, 'keys', 'build.key.pem'), fixture.env.AIRLOCK_PASSPHRASE!);
  const reader = await BundleReader.open(bundle);
  entries = [...reader.entries];
  await reader.close();
  expect(entries.some((entry) => entry.path === 'configs/prod/shop/evil.sh')).toBe(true);
}, 120_000);

let counter = 0;
function out(name: string): string {
  return join(fixture.dir, `${name}-${counter++}.airlock`);
}

/** The bundle written again with a changed airlock.json, signed by `signers` (the trusted build key by default). */
async function rebuilt(change: (manifest: BundleManifest) => void, signers?: BundleSigner[]): Promise<string> {
  const reader = await BundleReader.open(bundle);
  const manifest = JSON.parse((await reader.readFile(MANIFEST_PATH)).toString('utf8')) as BundleManifest;
  await reader.close();
  change(manifest);
  const payload: PayloadFile[] = entries
    .filter((entry) => entry.path !== CHECKSUMS_PATH && entry.path !== MANIFEST_PATH && !isSignaturePath(entry.path))
    .map((entry) => ({ path: entry.path, size: entry.size, mode: entry.mode, source: { kind: 'range', file: bundle, start: entry.dataOffset } }));
  const file = out('rebuilt');
  await writeBundle({ file, manifest: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), payload, signers: signers ?? [bundleSigner(key)], mtime: new Date(manifest.created) });
  return file;
}

async function changed(change: (data: Buffer) => Buffer | void): Promise<string> {
  const data = await readFile(bundle);
  const file = out('changed');
  await writeFile(file, change(data) ?? data);
  return file;
}

function ustarOf(path: string): number {
  return entries.find((entry) => entry.path === path)!.dataOffset - TAR_BLOCK;
}

async function verifyFails(file: string, code: 'BUNDLE_FORMAT' | 'POLICY_THRESHOLD', text: string): Promise<void> {
  const result = await runCli(['verify', file, '--trust', fixture.trust]);
  expect(result.stderr).toContain(`airlock: ${code}: `);
  expect(result.stderr).toContain(text);
  expect(result.code).toBe(exitCodeFor(code));
  expect(result.stdout).toContain('REJECTED');
}

describe('airlock.json names every file under its kind', () => {
  it('a rebuilt bundle with airlock.json unchanged verifies (the rebuild itself is sound)', async () => {
    const result = await runCli(['verify', await rebuilt(() => undefined), '--trust', fixture.trust]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('refuses a bundle signed by a trusted key that names a config file as a pre-install hook; install runs nothing and audits it', async () => {
    const file = await rebuilt((manifest) => {
      manifest.hooks.preInstall[0]!.path = 'configs/prod/shop/evil.sh';
    });
    await verifyFails(file, 'BUNDLE_FORMAT', 'airlock.json: hooks.preInstall[0].path: configs/prod/shop/evil.sh is not under hooks/');
    const site = await makeSite(fixture);
    const result = await install(file, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('BUNDLE_FORMAT'));
    expect(await stat(marker).catch(() => undefined)).toBeUndefined();
    expect((await auditLines(site)).at(-1)).toMatchObject({ action: 'install', outcome: 'refused', code: 'BUNDLE_FORMAT' });
  });

  it('refuses a config file of one environment named in another', async () => {
    const file = await rebuilt((manifest) => {
      manifest.configs.staging![0]!.path = 'configs/prod/shop/evil.sh';
    });
    await verifyFails(file, 'BUNDLE_FORMAT', 'airlock.json: configs.staging[0].path: configs/prod/shop/evil.sh is not under configs/staging/');
  });
});

describe('bytes no signature covers are refused', () => {
  it.each([
    ['junk after the end-of-archive marker', (data: Buffer) => Buffer.concat([data, Buffer.from('junk')]), '4 byte(s) after the end-of-archive marker'],
    ['more zero blocks after the two that end it', (data: Buffer) => Buffer.concat([data, Buffer.alloc(9 * TAR_BLOCK)]), `${9 * TAR_BLOCK} byte(s) after the end-of-archive marker`],
    ['a non-zero byte in the padding after a file', (data: Buffer) => {
      const entry = entries.find((e) => e.size % TAR_BLOCK !== 0 && e.path.startsWith('configs/'))!;
      data[entry.dataOffset + entry.size] = 0x0a;
    }, 'the padding after its data'],
  ])('%s', async (_, change, text) => {
    await verifyFails(await changed(change), 'BUNDLE_FORMAT', text);
  });

  it('refuses a second archive appended to the bundle', async () => {
    await mkdir(join(fixture.dir, 'second'), { recursive: true });
    await writeFile(join(fixture.dir, 'second', 'hooks.sh'), 'echo hidden\n');
    const second = (await execa('tar', ['-cf', '-', '-C', join(fixture.dir, 'second'), 'hooks.sh'], { encoding: 'buffer' })).stdout;
    await verifyFails(await changed((data) => Buffer.concat([data, Buffer.from(second)])), 'BUNDLE_FORMAT', 'after the end-of-archive marker');
  });
});

describe('malformed headers are BUNDLE_FORMAT, never INTERNAL, and install audits them', () => {
  const config = 'configs/prod/shop/logging.conf';
  it.each([
    ['a size in base-256 form', 124, () => base256Field(BigInt(entries.find((e) => e.path === config)!.size), 12), 'size field differs'],
    ['a uid in base-256 beyond 2^53', 108, () => base256Field(1n << 60n, 8), 'unreadable header'],
  ])('%s', async (_, offset, bytes, text) => {
    const block = ustarOf(config);
    const file = await changed((data) => {
      bytes().copy(data, block + offset);
      fixHeaderChecksum(data, block);
    });
    await verifyFails(file, 'BUNDLE_FORMAT', `entry at byte ${block}`);
    const verified = await runCli(['verify', file, '--trust', fixture.trust]);
    expect(verified.stderr).toContain(text);
    const site = await makeSite(fixture);
    const result = await install(file, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('BUNDLE_FORMAT'));
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code: 'BUNDLE_FORMAT' });
  });
});

describe('random single-byte changes anywhere outside the signature files (property)', () => {
  it('never verify, and always fail with an airlock error code other than INTERNAL', async () => {
    const good = await readFile(bundle);
    const trust = await loadTrustStore(fixture.trust);
    const now = new Date();
    const signatureData = entries.filter((entry) => isSignaturePath(entry.path)).map((entry) => [entry.dataOffset, entry.dataOffset + entry.size] as const);
    const unsigned = (offset: number) => signatureData.some(([start, end]) => offset >= start && offset < end);
    // Half anywhere in the file, half in the bytes around headers (header blocks, padding, the end), where data is sparse.
    const headers = entries.flatMap((entry) => [entry.headerOffset, entry.dataOffset + entry.size]);
    const random = seeded(1010);
    const codes = new Map<string, number>();
    const file = out('mutated');
    for (let round = 0; round < 300; round++) {
      let offset: number;
      do {
        offset = round % 2 === 0 ? random(good.length) : Math.min(good.length - 1, headers[random(headers.length)]! + random(TAR_BLOCK));
      } while (unsigned(offset));
      const data = Buffer.from(good);
      data[offset] = (data[offset]! + 1 + random(255)) & 0xff;
      await writeFile(file, data);
      let code: string;
      try {
        const loaded = await loadVerified(file, { checks: 'payload', trust, now, allowExpired: false, unreadable: 'throw' });
        try {
          expect(loaded.report.ok, `byte ${offset} changed, and the bundle still verified`).toBe(false);
          code = loaded.report.problems[0]!.code;
        } finally {
          await loaded.close();
        }
      } catch (error) {
        expect(error, `byte ${offset}: ${String(error)}`).toBeInstanceOf(AirlockError);
        code = (error as AirlockError).code;
      }
      expect(code, `byte ${offset}`).not.toBe('INTERNAL');
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // The changes reached every layer: headers, signatures over SHA256SUMS, file digests.
    expect([...codes.keys()]).toEqual(expect.arrayContaining(['BUNDLE_FORMAT', 'SIGNATURE_INVALID', 'DIGEST_MISMATCH']));
  }, 120_000);

  it('a few of them through the CLI exit with their own code, never 1 (INTERNAL)', async () => {
    const good = await readFile(bundle);
    const random = seeded(77);
    for (let round = 0; round < 6; round++) {
      const block = entries[random(entries.length)]!.headerOffset;
      const data = Buffer.from(good);
      const at = block + 100 + random(400);
      data[at] = data[at]! ^ 0x10;
      const file = out('cli');
      await writeFile(file, data);
      const result = await runCli(['verify', file, '--trust', fixture.trust]);
      expect(result.code, result.stderr).not.toBe(0);
      expect(result.code, result.stderr).not.toBe(exitCodeFor('INTERNAL'));
    }
  });
});

describe('one key is one vote, end to end', () => {
  it('an RSA key signing as itself and again under its id-RSASSA-PSS id with a CA certificate does not meet threshold 2', async () => {
    const made = await execa('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', join(fixture.dir, 'rsa.key.pem')]);
    expect(made.exitCode).toBe(0);
    const rsa = await loadSigningKey(join(fixture.dir, 'rsa.key.pem'), '');
    const { accepted } = rsaEncodings(decodePemBlocks(rsa.publicKeyPem)[0]!.der);
    const [plain, pss] = [accepted[0]!, accepted[1]!];
    expect(keyIdOf(plain.der)).toBe(rsa.keyId);
    const caKey = await parseSigningKeyPem(encodePem('PRIVATE KEY', ed25519PrivateKeyInfo(Buffer.alloc(32, 9))), 'ca', '');
    const caSpki = decodePemBlocks(caKey.publicKeyPem)[0]!.der;
    const subject = encodeName({ commonName: 'Vote Test CA' });
    const issuer = { name: subject, spki: caSpki, key: caKey };
    const day = 24 * 3600 * 1000;
    const window = { notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day) };
    const caPem = issueCertificate({ subject, spki: caSpki, ...window, kind: 'ca' }, issuer);
    const certificate = issueCertificate({ subject: encodeName({ commonName: 'alice', roles: ['security'] }), spki: pss.der, ...window, kind: 'signer' }, issuer);

    const trust = join(fixture.dir, 'vote-trust');
    await mkdir(trust);
    await writeFile(join(trust, 'trust.yaml'), 'version: 1\nthreshold: 2\nkeys:\n  - { file: alice.pub.pem, name: alice }\nauthorities:\n  - { file: ca.crt.pem, name: vote CA, roles: [security] }\n');
    await writeFile(join(trust, 'alice.pub.pem'), rsa.publicKeyPem);
    await writeFile(join(trust, 'ca.crt.pem'), caPem);
    const asItself = bundleSigner(rsa);
    const asPss: BundleSigner = { ...asItself, keyId: keyIdOf(pss.der), publicKeyPem: certificate };
    const file = await rebuilt(() => undefined, [asItself, asPss]);

    const result = await runCli(['verify', file, '--trust', trust, '--json']);
    expect(result.code, result.stderr).toBe(exitCodeFor('POLICY_THRESHOLD'));
    const report = JSON.parse(result.stdout) as { signers: Array<{ keyId: string; status: string }>; policy: { met: boolean; counted: string[] } };
    expect(report.signers.map((s) => s.status)).toEqual(['valid', 'valid']);
    // Which of the two ids counts depends on their order (signatures are read sorted by key id, and the key is random).
    const [first, second] = [rsa.keyId, keyIdOf(pss.der)].sort();
    expect(report.policy).toMatchObject({ met: false, counted: [first] });
    expect(result.stderr).toContain(`key ${second} is the same key as ${first} and counts once`);
    // Another key makes two: the same trust store accepts a second signer.
    await copyFile(join(fixture.dir, 'keys', 'build.pub.pem'), join(trust, 'build.pub.pem'));
    await writeFile(join(trust, 'trust.yaml'), 'version: 1\nthreshold: 2\nkeys:\n  - { file: alice.pub.pem, name: alice }\n  - { file: build.pub.pem, name: build }\n');
    const two = await runCli(['verify', await rebuilt(() => undefined, [asItself, bundleSigner(key)]), '--trust', trust]);
    expect(two.code, two.stderr).toBe(0);
  }, 60_000);
});

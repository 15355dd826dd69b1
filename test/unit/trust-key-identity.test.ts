/**
 * One key is one vote. A key's id is the SHA-256 of its canonical SPKI DER (what openssl
 * computes); its identity is the SHA-256 of the key's parameters in plain SPKI form, the same
 * for every way the key can be written. Thresholds count identities, the trust store holds
 * each key once, and anything but canonical DER is refused. Checked against real openssl,
 * and over many random re-encodings of the same keys.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificatesPem } from '../../src/trust/certificate.js';
import { encodeName, issueCertificate, type Issuer } from '../../src/trust/certificate-build.js';
import { ed25519PrivateKeyInfo } from '../../src/trust/ed25519.js';
import { keyIdOf } from '../../src/trust/key-id.js';
import { loadSigningKey, parsePublicKeyDer, parsePublicKeyPem, parseSigningKeyPem, type SigningKey } from '../../src/trust/keys.js';
import { decodePemBlocks, encodePem } from '../../src/trust/pem.js';
import { verifySignedList, type ListSignature } from '../../src/trust/signed-list.js';
import { loadTrustStore } from '../../src/trust/store.js';
import { rejection, thrown } from '../support/errors.js';
import { berVariant, innerBerVariant, rsaEncodings, seeded } from '../support/key-encodings.js';

const NOW = new Date();
const DAY = 24 * 3600 * 1000;
const LIST = Buffer.from(`${'ab'.repeat(32)}  airlock.json\n`);

let dir: string;
/** An RSA-PSS key made by openssl, and its public key as `openssl pkey -pubout` writes it. */
let rsa: SigningKey;
let rsaSpki: Buffer;
let encodings: ReturnType<typeof rsaEncodings>;
let ed: SigningKey;
let other: SigningKey;
let ca: { pem: string; issuer: Issuer };

/** What `openssl pkey -pubin -outform DER | sha256sum` says; undefined when openssl cannot read the key at all. */
async function opensslKeyId(der: Buffer): Promise<string | undefined> {
  const out = await execa('openssl', ['pkey', '-pubin', '-inform', 'DER', '-outform', 'DER'], { input: der, encoding: 'buffer', reject: false });
  return out.exitCode === 0 ? createHash('sha256').update(out.stdout).digest('hex') : undefined;
}

function spkiOf(key: SigningKey): Buffer {
  return decodePemBlocks(key.publicKeyPem)[0]!.der;
}

async function edKey(seed: number): Promise<SigningKey> {
  return parseSigningKeyPem(encodePem('PRIVATE KEY', ed25519PrivateKeyInfo(Buffer.alloc(32, seed))), `key-${seed}`, '');
}

function certificateFor(spki: Buffer, roles: string[]): string {
  return issueCertificate({ subject: encodeName({ commonName: 'alice', roles }), spki, notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + DAY), kind: 'signer' }, ca.issuer);
}

async function store(files: Record<string, string | Buffer>): Promise<string> {
  const path = await mkdtemp(join(dir, 'store-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(path, name), content);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-identity-'));
  const made = await execa('openssl', ['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', join(dir, 'rsa.key.pem')]);
  expect(made.exitCode).toBe(0);
  rsa = await loadSigningKey(join(dir, 'rsa.key.pem'), '');
  const pub = await execa('openssl', ['pkey', '-in', join(dir, 'rsa.key.pem'), '-pubout', '-outform', 'DER'], { encoding: 'buffer' });
  rsaSpki = Buffer.from(pub.stdout);
  encodings = rsaEncodings(rsaSpki);
  ed = await edKey(1);
  other = await edKey(2);
  const caKey = await edKey(3);
  const subject = encodeName({ commonName: 'Identity Test CA' });
  const issuer = { name: subject, spki: spkiOf(caKey), key: caKey };
  ca = { issuer, pem: issueCertificate({ subject, spki: spkiOf(caKey), notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 2 * DAY), kind: 'ca' }, issuer) };
}, 60_000);

describe('key id and identity', () => {
  it('the RSA-PSS key openssl made has the id openssl computes, from its public and its private key', async () => {
    expect(rsa.keyId).toBe(keyIdOf(rsaSpki));
    expect(rsa.keyId).toBe(await opensslKeyId(rsaSpki));
    expect(parsePublicKeyDer(rsaSpki, 'rsa.pub').keyId).toBe(rsa.keyId);
  });

  it('every canonical form of one RSA key has the id openssl computes, and all share one identity', async () => {
    const plain = parsePublicKeyDer(encodings.accepted[0]!.der, 'plain');
    const signature = rsa.sign(LIST);
    const ids = new Set<string>();
    for (const { label, der } of encodings.accepted) {
      const key = parsePublicKeyDer(der, label);
      expect(key.keyId, label).toBe(await opensslKeyId(der));
      expect(key.identity, label).toBe(plain.keyId);
      expect(key.verify(LIST, signature), label).toBe(true);
      ids.add(key.keyId);
    }
    expect(ids.size).toBe(encodings.accepted.length);
  });

  it('a form that is DER but not canonical is refused: openssl would give it another id, or not read it', async () => {
    for (const { label, der } of encodings.refused) {
      const error = thrown(() => parsePublicKeyPem(encodePem('PUBLIC KEY', der), `${label}.pem`));
      expect(error.code, label).toBe('KEY_INVALID');
      expect(error.message, label).toMatch(new RegExp(`^${label}\\.pem: not in canonical DER: .*openssl pkey -pubin -in FILE`));
      expect(await opensslKeyId(der), label).not.toBe(keyIdOf(der));
    }
  });

  it('BER is refused, for many random re-encodings of Ed25519 and RSA keys and certificates', () => {
    const random = seeded(20240501);
    const certificate = decodePemBlocks(certificateFor(spkiOf(ed), ['build']))[0]!.der;
    for (let round = 0; round < 300; round++) {
      const kind = random(4);
      if (kind === 3) {
        const ber = berVariant(certificate, random);
        expect(thrown(() => parseCertificatesPem(encodePem('CERTIFICATE', ber), 'c.pem')).message).toMatch(/^c\.pem: unreadable certificate: Certificate: not DER-encoded/);
        continue;
      }
      const ber = kind === 0 ? berVariant(spkiOf(ed), random) : kind === 1 ? berVariant(rsaSpki, random) : innerBerVariant(rsaSpki, random);
      const error = thrown(() => parsePublicKeyPem(encodePem('PUBLIC KEY', ber), 'k.pem'));
      expect(error.code, ber.toString('hex')).toBe('KEY_INVALID');
      expect(error.message, ber.toString('hex')).toMatch(/^k\.pem: (SubjectPublicKeyInfo|RSAPublicKey): not DER-encoded/);
    }
  });
});

describe('the trust store holds each key once', () => {
  it('refuses two entries of one RSA key in two encodings, for random pairs of them', async () => {
    const random = seeded(7);
    for (let round = 0; round < 12; round++) {
      const first = encodings.accepted[random(encodings.accepted.length)]!;
      let second = first;
      while (second === first) second = encodings.accepted[random(encodings.accepted.length)]!;
      const path = await store({
        'trust.yaml': 'version: 1\nthreshold: 2\nkeys:\n  - { file: a.pub.pem, name: a }\n  - { file: b.pub.pem, name: b }\n',
        'a.pub.pem': encodePem('PUBLIC KEY', first.der),
        'b.pub.pem': encodePem('PUBLIC KEY', second.der),
      });
      const error = await rejection(loadTrustStore(path));
      expect(error.code).toBe('TRUST_STORE_INVALID');
      expect(error.message).toBe(
        `${join(path, 'trust.yaml')}: keys[1]: b.pub.pem holds the same key as a.pub.pem (key id ${keyIdOf(first.der)} there, ${keyIdOf(second.der)} here: one key in two encodings)`,
      );
    }
  });

  it('refuses a key listed beside its own certificate, and root keys twice', async () => {
    const path = await store({
      'trust.yaml': [
        'version: 1',
        'threshold: 2',
        'keys:',
        '  - { file: alice.pub.pem, name: alice }',
        '  - { file: alice.crt.pem, name: alice (certificate) }',
        'root:',
        '  threshold: 1',
        '  keys:',
        '    - { file: root.pub.pem, name: root }',
        '    - { file: root-copy.pub.pem, name: root again }',
      ].join('\n'),
      'alice.pub.pem': ed.publicKeyPem,
      'alice.crt.pem': certificateFor(spkiOf(ed), ['build']),
      'root.pub.pem': other.publicKeyPem,
      'root-copy.pub.pem': other.publicKeyPem,
    });
    const error = await rejection(loadTrustStore(path));
    expect(error.message.split('\n')).toEqual([
      `${join(path, 'trust.yaml')}: keys[1]: alice.crt.pem holds the same key as alice.pub.pem (${ed.keyId})`,
      `${join(path, 'trust.yaml')}: root.keys[1]: root-copy.pub.pem holds the same key as root.pub.pem (${other.keyId})`,
    ]);
  });

  it('refuses a key file in BER, saying so', async () => {
    const path = await store({ 'alice.pub.pem': encodePem('PUBLIC KEY', berVariant(spkiOf(ed), seeded(1))) });
    const error = await rejection(loadTrustStore(path));
    expect(error.code).toBe('TRUST_STORE_INVALID');
    expect(error.message).toBe(`${join(path, 'alice.pub.pem')}: SubjectPublicKeyInfo: not DER-encoded (a length is not in its shortest, definite form)`);
  });
});

describe('threshold 2: one signer alone never meets it', () => {
  /** keys: alice's RSA key in `listed` form; a CA that certifies; threshold 2. */
  async function policyStore(listed: Buffer, extra: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof loadTrustStore>>> {
    return loadTrustStore(
      await store({
        'trust.yaml': [
          'version: 1',
          'threshold: 2',
          'keys:',
          '  - { file: alice.pub.pem, name: alice, roles: [build] }',
          '  - { file: bob.pub.pem, name: bob, roles: [build] }',
          'authorities:',
          '  - { file: ca.crt.pem, name: test CA, roles: [security] }',
        ].join('\n'),
        'alice.pub.pem': encodePem('PUBLIC KEY', listed),
        'bob.pub.pem': other.publicKeyPem,
        'ca.crt.pem': ca.pem,
        ...extra,
      }),
    );
  }

  function signature(key: SigningKey, keyId: string, pem: string): ListSignature {
    return { keyId, signature: key.sign(LIST), path: `signatures/${keyId}.sig`, pem: { path: `signatures/${keyId}.pem`, text: pem } };
  }

  it('a listed key and a certificate for the same key in another encoding are one vote, for every pair of encodings', async () => {
    const random = seeded(99);
    for (let round = 0; round < 6; round++) {
      const listed = encodings.accepted[random(encodings.accepted.length)]!.der;
      let certified = listed;
      while (certified.equals(listed)) certified = encodings.accepted[random(encodings.accepted.length)]!.der;
      const trust = await policyStore(listed);
      const [a, b] = [keyIdOf(listed), keyIdOf(certified)];
      const verdict = verifySignedList({ name: 'SHA256SUMS', bytes: LIST }, [signature(rsa, a, encodePem('PUBLIC KEY', listed)), signature(rsa, b, certificateFor(certified, ['security']))], trust, NOW);
      expect(verdict.signers.map((s) => [s.keyId, s.status, s.certifiedBy])).toEqual([
        [a, 'valid', undefined],
        [b, 'valid', 'test CA'],
      ]);
      expect(verdict.policy.met).toBe(false);
      expect(verdict.policy.counted).toEqual([{ keyId: a, name: 'alice', roles: ['build', 'security'] }]);
      expect(verdict.problems).toHaveLength(1);
      expect(verdict.problems[0]!.code).toBe('POLICY_THRESHOLD');
      expect(verdict.problems[0]!.message).toContain(`key ${b} is the same key as ${a} and counts once`);
      // The same store is met by two different keys: the test can tell the two apart.
      const two = verifySignedList({ name: 'SHA256SUMS', bytes: LIST }, [signature(rsa, a, encodePem('PUBLIC KEY', listed)), signature(other, other.keyId, other.publicKeyPem)], trust, NOW);
      expect(two.policy.met).toBe(true);
      expect(two.problems).toEqual([]);
    }
  });

  it('revoking a key under one of its ids revokes it under all of them', async () => {
    const [plain, pss] = [encodings.accepted[0]!.der, encodings.accepted[1]!.der];
    // revoked.txt names the id the bundle shows; the store lists the other form.
    const trust = await policyStore(plain, { 'revoked.txt': `${keyIdOf(pss)}\n` });
    const verdict = verifySignedList(
      { name: 'SHA256SUMS', bytes: LIST },
      [signature(rsa, keyIdOf(plain), encodePem('PUBLIC KEY', plain)), signature(rsa, keyIdOf(pss), certificateFor(pss, ['security'])), signature(other, other.keyId, other.publicKeyPem)],
      trust,
      NOW,
    );
    expect(verdict.signers.map((s) => s.status)).toEqual(['revoked', 'revoked', 'valid']);
    expect(verdict.policy.met).toBe(false);
    // The store knows the PSS form and revoked.txt names the plain id (the identity).
    const listedPss = await policyStore(pss, { 'revoked.txt': `${keyIdOf(plain)}\n` });
    expect(listedPss.isRevoked(parsePublicKeyDer(pss, 'pss'))).toBe(true);
  });

  it('a .pem that is not the key its name says, or not PEM alone, is a format error', () => {
    const trust = { keys: new Map(), authorities: [], isRevoked: () => false, policy: { threshold: 1, requiredRoles: [] } };
    const cases: Array<[string, string]> = [
      [other.publicKeyPem, `holds key ${other.keyId}, not the key ${ed.keyId} its name says`],
      [`comment\n${ed.publicKeyPem}`, 'expected one PUBLIC KEY, or CERTIFICATE blocks'],
      [ed.publicKeyPem + ed.publicKeyPem, 'expected one PUBLIC KEY, or CERTIFICATE blocks'],
      [ed.publicKeyPem.replace('\n', '\n!'), 'expected one PUBLIC KEY, or CERTIFICATE blocks'],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'signatures/x.pem: '],
    ];
    for (const [text, message] of cases) {
      const verdict = verifySignedList({ name: 'SHA256SUMS', bytes: LIST }, [{ keyId: ed.keyId, signature: ed.sign(LIST), path: 'signatures/x.sig', pem: { path: 'signatures/x.pem', text } }], trust, NOW);
      expect(verdict.problems[0]?.code, text).toBe('BUNDLE_FORMAT');
      expect(verdict.problems[0]?.message, text).toContain(message);
    }
  });
});

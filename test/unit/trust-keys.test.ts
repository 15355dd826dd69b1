import { mkdtemp, writeFile } from 'node:fs/promises';
import { createHash, createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type GeneratedKeyPair } from '../../src/trust/generate.js';
import { isKeyId, keyIdOf } from '../../src/trust/key-id.js';
import { loadSigningKey, parsePublicKeyPem, parseSigningKeyPem } from '../../src/trust/keys.js';
import { decodePemBlocks, encodePem } from '../../src/trust/pem.js';
import { rejection, thrown } from '../support/errors.js';

// RFC 8032 §7.1, TEST 1.
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
// sha256 of the SPKI DER below, computed with `openssl pkey -pubin -inform DER -outform DER | sha256sum`.
const KEY_ID = '06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9';
const SPKI = Buffer.from(`302a300506032b6570032100${PUBLIC}`, 'hex');
const PKCS8 = Buffer.from(`302e020100300506032b657004220420${SEED}`, 'hex');



describe('key id', () => {
  it('is the lowercase hex SHA-256 of the SPKI DER', () => {
    expect(keyIdOf(SPKI)).toBe(KEY_ID);
    expect(isKeyId(KEY_ID)).toBe(true);
    expect(isKeyId(KEY_ID.toUpperCase())).toBe(false);
    expect(parsePublicKeyPem(encodePem('PUBLIC KEY', SPKI), 'vector').keyId).toBe(KEY_ID);
  });
});

describe('Ed25519 against the RFC 8032 vector', () => {
  it('an unencrypted PKCS#8 key signs exactly as the RFC says, and says it is unencrypted', async () => {
    const key = await parseSigningKeyPem(encodePem('PRIVATE KEY', PKCS8), 'vector.key.pem', 'unused');
    expect(key).toMatchObject({ type: 'ed25519', keyId: KEY_ID, encrypted: false });
    expect(key.publicKeyPem).toBe(encodePem('PUBLIC KEY', SPKI));
    expect(key.sign(Buffer.alloc(0)).toString('hex')).toBe(SIGNATURE);
  });

  it('verifies the vector and nothing else', () => {
    const key = parsePublicKeyPem(encodePem('PUBLIC KEY', SPKI), 'vector');
    const signature = Buffer.from(SIGNATURE, 'hex');
    expect(key.verify(Buffer.alloc(0), signature)).toBe(true);
    expect(key.verify(Buffer.from([0]), signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(key.verify(Buffer.alloc(0), flipped)).toBe(false);
    expect(key.verify(Buffer.alloc(0), signature.subarray(1))).toBe(false);
  });
});

describe.each(['ed25519', 'rsa-pss'] as const)('%s key pairs', (type) => {
  let pair: GeneratedKeyPair;
  beforeAll(async () => {
    pair = await generateKeyPair({ type, passphrase: 'correct hörse' });
  });

  it('round-trips: the encrypted private key loads and its signatures verify with the public PEM', async () => {
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(pair.privateKeyPem).not.toContain('\r');
    const key = await parseSigningKeyPem(pair.privateKeyPem, 'k.key.pem', 'correct hörse');
    expect(key).toMatchObject({ type, keyId: pair.keyId, encrypted: true, publicKeyPem: pair.publicKeyPem });
    const data = Buffer.from('SHA256SUMS bytes\n\u00ff\u0000', 'latin1');
    const signature = key.sign(data);
    expect(signature.length).toBe(type === 'ed25519' ? 64 : 384);
    const publicKey = parsePublicKeyPem(pair.publicKeyPem, 'k.pub.pem');
    expect(publicKey.keyId).toBe(pair.keyId);
    expect(publicKey.pem).toBe(pair.publicKeyPem);
    expect(publicKey.verify(data, signature)).toBe(true);
    expect(publicKey.verify(Buffer.concat([data, Buffer.from('x')]), signature)).toBe(false);
  });

  it('the key id is the SHA-256 of the public PEM body', () => {
    const [block] = decodePemBlocks(pair.publicKeyPem);
    expect(pair.keyId).toBe(createHash('sha256').update(block?.der ?? Buffer.alloc(0)).digest('hex'));
  });

  it('a wrong passphrase is PASSPHRASE_WRONG naming the file, never echoing the passphrase', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-key-'));
    const file = join(dir, 'k.key.pem');
    await writeFile(file, pair.privateKeyPem);
    const error = await rejection(loadSigningKey(file, 'battery staple'));
    expect(error.code).toBe('PASSPHRASE_WRONG');
    expect(error.message).toBe(`${file}: wrong passphrase`);
  });

  it('asks for the passphrase only when the key is encrypted', async () => {
    let asked = 0;
    const ask = async () => {
      asked += 1;
      return 'correct hörse';
    };
    await parseSigningKeyPem(pair.privateKeyPem, 'k', ask);
    expect(asked).toBe(1);
    await parseSigningKeyPem(encodePem('PRIVATE KEY', PKCS8), 'plain', ask);
    expect(asked).toBe(1);
  });
});

describe('encrypted PKCS#8 written by other tools', () => {
  const plain = createPrivateKey({ key: encodePem('PRIVATE KEY', PKCS8), format: 'pem' });
  const byForge = (options: object) => () => {
    const info = forge.asn1.fromDer(PKCS8.toString('binary'));
    const encrypted = forge.pki.encryptPrivateKeyInfo(info, forge.util.encodeUtf8('correct hörse'), { count: 2048, ...options });
    return encodePem('ENCRYPTED PRIVATE KEY', Buffer.from(forge.asn1.toDer(encrypted).getBytes(), 'binary'));
  };
  // OpenSSL's PBES2 (HMAC-SHA256, AES-128 or -256) and forge's with the PRF left out (its
  // default, HMAC-SHA1) open on node:crypto; triple DES is left to forge.
  const written: Array<[string, () => string]> = [
    ['openssl aes-128-cbc', () => plain.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'correct hörse' }) as string],
    ['openssl aes-256-cbc', () => plain.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct hörse' }) as string],
    ['forge aes-256-cbc, HMAC-SHA1', byForge({ algorithm: 'aes256', prfAlgorithm: 'sha1' })],
    ['forge 3des', byForge({ algorithm: '3des' })],
  ];

  it.each(written)('%s: opens with its passphrase to the same key, and a wrong one is PASSPHRASE_WRONG', async (_, pem) => {
    const text = pem();
    const key = await parseSigningKeyPem(text, 'other.key.pem', 'correct hörse');
    expect(key).toMatchObject({ keyId: KEY_ID, encrypted: true });
    expect(key.sign(Buffer.alloc(0)).toString('hex')).toBe(SIGNATURE);
    const wrong = await rejection(parseSigningKeyPem(text, 'other.key.pem', 'correct horse'));
    expect([wrong.code, wrong.message]).toEqual(['PASSPHRASE_WRONG', 'other.key.pem: wrong passphrase']);
  });
});

describe('refusals', () => {
  it('RSA smaller than 3072 bits is refused for generation and for loading', async () => {
    const small = await rejection(generateKeyPair({ type: 'rsa-pss', bits: 2048, passphrase: 'p' }));
    expect(small.code).toBe('USAGE');
    expect(small.message).toContain('2048');

    const pair = forge.pki.rsa.generateKeyPair({ bits: 2048 });
    const info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(pair.privateKey));
    const der = Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary');
    const loading = await rejection(parseSigningKeyPem(encodePem('PRIVATE KEY', der), 'small.key.pem', ''));
    expect(loading.code).toBe('KEY_INVALID');
    expect(loading.message).toBe('small.key.pem: RSA key of 2048 bits; airlock requires 3072 or more');

    const spki = Buffer.from(forge.asn1.toDer(forge.pki.publicKeyToAsn1(pair.publicKey)).getBytes(), 'binary');
    expect(thrown(() => parsePublicKeyPem(encodePem('PUBLIC KEY', spki), 'small.pub.pem')).message).toBe(
      'small.pub.pem: RSA key of 2048 bits; airlock requires 3072 or more',
    );
  });

  it('an empty passphrase is refused for a new key', async () => {
    expect((await rejection(generateKeyPair({ type: 'ed25519', passphrase: '' }))).code).toBe('PASSPHRASE_REQUIRED');
  });

  it('names the file and what it found when the PEM is not a key', async () => {
    const error = await rejection(parseSigningKeyPem(encodePem('PUBLIC KEY', SPKI), 'pub-as-key.pem', 'p'));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toContain('pub-as-key.pem: not a PKCS#8 private key (found PUBLIC KEY)');
    expect(thrown(() => parsePublicKeyPem('garbage', 'x.pem')).message).toBe('x.pem: no PUBLIC KEY or CERTIFICATE PEM block');
    const ec = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004' + '11'.repeat(64), 'hex');
    expect(thrown(() => parsePublicKeyPem(encodePem('PUBLIC KEY', ec), 'ec.pem')).message).toContain('ec.pem: unsupported key algorithm 1.2.840.10045.2.1');
  });
});

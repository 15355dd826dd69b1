/**
 * The one node-forge instance the trust code uses, with one change: PBKDF2 runs on
 * node:crypto. forge's PKCS#8 encryption (pbe.encryptPrivateKeyInfo / decryptPrivateKeyInfo)
 * always hands its pure-JS PBKDF2 a digest object, which forge then runs in JavaScript
 * (~15 ms per 1,000 SHA-256 iterations here): a strong iteration count would cost seconds
 * on every key load. node:crypto derives the same bytes natively, so we route the digests
 * node knows to it and leave everything else (cipher, ASN.1, PEM) to forge.
 */
import { pbkdf2Sync } from 'node:crypto';
import forge from 'node-forge';

const NATIVE_DIGESTS = new Set(['sha1', 'sha256', 'sha384', 'sha512']);

type Pbkdf2 = (password: string, salt: string, iterations: number, keySize: number, md?: unknown, callback?: unknown) => string | void;

const pureJsPbkdf2 = forge.pkcs5.pbkdf2 as unknown as Pbkdf2;

const nativePbkdf2: Pbkdf2 = (password, salt, iterations, keySize, md, callback) => {
  const algorithm = typeof md === 'object' && md !== null ? (md as { algorithm?: unknown }).algorithm : undefined;
  if (typeof algorithm !== 'string' || !NATIVE_DIGESTS.has(algorithm) || callback !== undefined) {
    return pureJsPbkdf2(password, salt, iterations, keySize, md, callback);
  }
  // forge strings are binary strings: one char per byte.
  return pbkdf2Sync(Buffer.from(password, 'binary'), Buffer.from(salt, 'binary'), iterations, keySize, algorithm).toString('binary');
};

(forge.pkcs5 as unknown as { pbkdf2: Pbkdf2 }).pbkdf2 = nativePbkdf2;

export { forge };


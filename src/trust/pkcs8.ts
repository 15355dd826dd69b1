/**
 * PKCS#8 private keys (RFC 5208/5958), plain and encrypted. Encryption is forge's PBES2:
 * AES-256-CBC with a PBKDF2-HMAC-SHA256 key, the same scheme `openssl genpkey -aes256` uses,
 * so openssl reads our keys and we read its keys. Decryption of that scheme is node:crypto's.
 */
import { createDecipheriv, pbkdf2 } from 'node:crypto';
import { bytesOf, children, encodeDer, expectType, parseDer, primitive, sequence, Type, type Asn1 } from './der.js';
import { forge } from './forge.js';
import { readAlgorithm } from './spki.js';

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256; about 0.2 s natively (see forge.ts), paid once per key load. */
export const PBKDF2_ITERATIONS = 600_000;

export interface PrivateKeyInfo {
  algorithm: Asn1;
  algorithmOid: string;
  algorithmParams: Asn1 | undefined;
  /** Contents of the privateKey OCTET STRING (algorithm-specific DER). */
  privateKey: Buffer;
}

export function parsePrivateKeyInfo(der: Buffer): PrivateKeyInfo {
  const [version, algorithm, privateKey] = children(expectType(parseDer(der), Type.SEQUENCE, 'PrivateKeyInfo'), 'PrivateKeyInfo');
  expectType(version, Type.INTEGER, 'PrivateKeyInfo.version');
  if (algorithm === undefined) throw new Error('PrivateKeyInfo: algorithm missing');
  const [algorithmOid, algorithmParams] = readAlgorithm(algorithm);
  return {
    algorithm,
    algorithmOid,
    algorithmParams,
    privateKey: bytesOf(expectType(privateKey, Type.OCTETSTRING, 'privateKey'), 'privateKey'),
  };
}

export function buildPrivateKeyInfo(algorithm: Asn1, privateKey: Buffer): Buffer {
  return encodeDer(sequence([primitive(Type.INTEGER, Buffer.from([0])), algorithm, primitive(Type.OCTETSTRING, privateKey)]));
}

export function encryptPrivateKeyInfo(der: Buffer, passphrase: string): Buffer {
  const encrypted = forge.pki.encryptPrivateKeyInfo(parseDer(der), utf8(passphrase), {
    algorithm: 'aes256',
    count: PBKDF2_ITERATIONS,
    saltSize: 16,
    prfAlgorithm: 'sha256',
  } as forge.pki.EncryptionOptions);
  return encodeDer(encrypted);
}

/**
 * The decrypted PrivateKeyInfo DER, or undefined when the passphrase does not open it. The
 * scheme airlock and `openssl genpkey -aes256` write (PBES2: PBKDF2-HMAC-SHA*, AES-CBC) is
 * opened on node:crypto, PBKDF2 on the thread pool (~0.2 s at our iteration count, which this
 * thread spends on other work: build lists its sources meanwhile); any other scheme by forge.
 */
export async function decryptPrivateKeyInfo(der: Buffer, passphrase: string): Promise<Buffer | undefined> {
  const native = nativePbes2(der);
  if (native === undefined) return forgeDecrypt(der, passphrase);
  const key = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(passphrase, 'utf8'), native.salt, native.iterations, native.keyBytes, native.digest, (error, derived) => (error ? reject(error) : resolve(derived))),
  );
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(native.cipher, key, native.iv);
    plain = Buffer.concat([decipher.update(native.data), decipher.final()]);
  } catch {
    // Bad padding: the passphrase made another key.
    return undefined;
  }
  try {
    return encodeDer(parseDer(plain));
  } catch {
    // Padding that happened to be valid (about 1 in 256) over bytes that are no DER: still a wrong passphrase.
    return undefined;
  }
}

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const HMAC_DIGESTS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const AES_CBC: Record<string, { cipher: string; keyBytes: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyBytes: 32 },
};

interface Pbes2 {
  salt: Buffer;
  iterations: number;
  keyBytes: number;
  digest: string;
  cipher: string;
  iv: Buffer;
  data: Buffer;
}

/** The PBES2 parameters node:crypto can apply, or undefined for anything else (forge then reads it, and names what it cannot). */
function nativePbes2(der: Buffer): Pbes2 | undefined {
  try {
    const [algorithm, encrypted, ...rest] = children(expectType(parseDer(der), Type.SEQUENCE, 'EncryptedPrivateKeyInfo'), 'EncryptedPrivateKeyInfo');
    const [schemeOid, schemeParams] = readAlgorithm(algorithm!);
    if (rest.length > 0 || schemeOid !== PBES2) return undefined;
    const [kdf, encryption, ...extra] = children(expectType(schemeParams, Type.SEQUENCE, 'PBES2-params'), 'PBES2-params');
    const [kdfOid, kdfParams] = readAlgorithm(kdf!);
    const [cipherOid, ivNode] = readAlgorithm(encryption!);
    const aes = AES_CBC[cipherOid];
    if (extra.length > 0 || kdfOid !== PBKDF2 || aes === undefined) return undefined;
    const [salt, count, ...optional] = children(expectType(kdfParams, Type.SEQUENCE, 'PBKDF2-params'), 'PBKDF2-params');
    // keyLength, when given, must be the cipher's; the PRF defaults to HMAC-SHA1 (RFC 8018).
    const keyLength = optional[0]?.type === Type.INTEGER ? optional.shift() : undefined;
    const prf = optional.shift();
    if (optional.length > 0 || (keyLength !== undefined && unsigned(keyLength) !== aes.keyBytes)) return undefined;
    const digest = prf === undefined ? 'sha1' : HMAC_DIGESTS[prfOid(prf)];
    const iterations = unsigned(expectType(count, Type.INTEGER, 'iterationCount'));
    const iv = bytesOf(expectType(ivNode, Type.OCTETSTRING, 'IV'), 'IV');
    if (digest === undefined || iterations < 1 || iv.length !== 16) return undefined;
    return {
      salt: bytesOf(expectType(salt, Type.OCTETSTRING, 'salt'), 'salt'),
      iterations,
      keyBytes: aes.keyBytes,
      digest,
      cipher: aes.cipher,
      iv,
      data: bytesOf(expectType(encrypted, Type.OCTETSTRING, 'encryptedData'), 'encryptedData'),
    };
  } catch {
    return undefined;
  }
}

function prfOid(prf: Asn1): string {
  const [oid, params] = readAlgorithm(prf);
  // NULL parameters or none, as RFC 8018 allows.
  return params === undefined || (params.type === Type.NULL && bytesOf(params, 'prf parameters').length === 0) ? oid : '';
}

/** A small non-negative INTEGER, or -1 for anything else. */
function unsigned(node: Asn1): number {
  const bytes = bytesOf(node, 'INTEGER');
  if (bytes.length === 0 || bytes.length > 6 || bytes[0]! >= 0x80) return -1;
  return bytes.readUIntBE(0, bytes.length);
}

function forgeDecrypt(der: Buffer, passphrase: string): Buffer | undefined {
  const encrypted = parseDer(der);
  let decrypted: Asn1 | null;
  try {
    decrypted = forge.pki.decryptPrivateKeyInfo(encrypted, utf8(passphrase));
  } catch (error) {
    // forge's own complaints are about the algorithms (unsupported cipher, PRF, structure).
    // Anything else is the decrypted bytes failing to parse: a wrong passphrase that still
    // left valid padding (about 1 in 256).
    if (error instanceof Error && /Cannot read|Unsupported|Unknown|unavailable/.test(error.message)) throw error;
    return undefined;
  }
  return decrypted === null ? undefined : encodeDer(decrypted);
}

/** openssl derives keys from the passphrase's UTF-8 bytes; forge takes a binary string. */
function utf8(passphrase: string): string {
  return forge.util.encodeUtf8(passphrase);
}

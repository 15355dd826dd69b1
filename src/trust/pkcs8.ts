/**
 * PKCS#8 private keys (RFC 5208/5958), plain and encrypted. Encryption is forge's PBES2:
 * AES-256-CBC with a PBKDF2-HMAC-SHA256 key, the same scheme `openssl genpkey -aes256` uses,
 * so openssl reads our keys and we read its keys.
 */
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

/** The decrypted PrivateKeyInfo DER, or undefined when the passphrase does not open it. */
export function decryptPrivateKeyInfo(der: Buffer, passphrase: string): Buffer | undefined {
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

/** Object identifiers of the key algorithms airlock reads and writes. */
import type { PrivateKeyInfo } from './pkcs8.js';
import type { Spki } from './spki.js';

export const OID_ED25519 = '1.3.101.112';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';

export type KeyType = 'ed25519' | 'rsa-pss';

export function keyTypeOfOid(oid: string): KeyType | undefined {
  if (oid === OID_ED25519) return 'ed25519';
  if (oid === OID_RSA_ENCRYPTION || oid === OID_RSASSA_PSS) return 'rsa-pss';
  return undefined;
}

/** A public key's parameters, checked. */
export interface KeyMaterial {
  verify(data: Buffer, signature: Buffer): boolean;
  /**
   * The key's SPKI re-encoded from its parameters under its own algorithm identifier: the one
   * DER form of this key as written, the one OpenSSL writes too. A key file is read only if
   * it holds exactly these bytes, so its key id is the one `openssl pkey -outform DER` gives.
   */
  spki: Buffer;
  /**
   * The same key in its plain SPKI form, re-encoded from its parameters: Ed25519's point, or
   * the RSA modulus and exponent under rsaEncryption. Its SHA-256 is the key's identity,
   * the same for every way of writing the key down (an RSA key under id-RSASSA-PSS too).
   */
  plainSpki: Buffer;
}

/** What each key algorithm provides; the rest of the trust code is algorithm-neutral. */
export interface KeyAlgorithm {
  type: KeyType;
  /** Throws an Error saying what is wrong with the key (size, parameters, encoding). */
  publicKey(spki: Spki): KeyMaterial;
  /** Throws an Error saying what is wrong with the key. */
  signer(info: PrivateKeyInfo): { spki: Buffer; sign(data: Buffer): Buffer };
}

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

/** What each key algorithm provides; the rest of the trust code is algorithm-neutral. */
export interface KeyAlgorithm {
  type: KeyType;
  /** Throws an Error saying what is wrong with the key (size, parameters). */
  verifier(spki: Spki): (data: Buffer, signature: Buffer) => boolean;
  /** Throws an Error saying what is wrong with the key. */
  signer(info: PrivateKeyInfo): { spki: Buffer; sign(data: Buffer): Buffer };
}

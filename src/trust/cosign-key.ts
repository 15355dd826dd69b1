/**
 * cosign public keys and their signatures, on node:crypto: ECDSA P-256 with SHA-256 (cosign's
 * default; the signature is ASN.1 DER, base64 in the artifact), RSA PKCS#1 v1.5 with SHA-256, or
 * Ed25519. A key is named by its key id, the SHA-256 of its SPKI DER, as airlock names its own.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AirlockError } from '../base/errors.js';

export interface CosignKey {
  keyId: string;
  key: KeyObject;
  /** The key as SPKI PEM, as it travels in the bundle. */
  pem: string;
}

export function parseCosignKey(pem: string, file: string): CosignKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new AirlockError('KEY_INVALID', `${file}: not a public key in PEM (${(cause as Error).message})`, { cause });
  }
  if (!['ec', 'rsa', 'ed25519'].includes(key.asymmetricKeyType ?? '')) {
    throw new AirlockError('KEY_INVALID', `${file}: a ${key.asymmetricKeyType} key; image signatures are checked with ECDSA, RSA or Ed25519 keys`);
  }
  const der = key.export({ type: 'spki', format: 'der' });
  return { keyId: createHash('sha256').update(der).digest('hex'), key, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Whether `signature` (raw bytes, DER for ECDSA) over `data` verifies with the key. */
export function verifiesWith(key: CosignKey, data: Buffer, signature: Buffer): boolean {
  try {
    return verify(key.key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key.key, signature);
  } catch {
    return false;
  }
}

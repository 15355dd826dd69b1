/** Signing keys as the bundle writer needs them: with the length of their signatures known up front. */
import { createPublicKey } from 'node:crypto';
import type { BundleSigner } from '../bundle/write.js';
import type { SigningKey } from '../trust/keys.js';

const ED25519_SIGNATURE_BYTES = 64;

export function bundleSigner(key: SigningKey): BundleSigner {
  return { keyId: key.keyId, publicKeyPem: key.publicKeyPem, signatureLength: signatureLength(key), sign: (data) => key.sign(data) };
}

/** An RSA-PSS signature is as long as the modulus; only its size is read here, node:crypto parses the PEM. */
function signatureLength(key: SigningKey): number {
  if (key.type === 'ed25519') return ED25519_SIGNATURE_BYTES;
  const bits = createPublicKey(key.publicKeyPem).asymmetricKeyDetails?.modulusLength ?? 0;
  return Math.ceil(bits / 8);
}

/** New key pairs: an encrypted PKCS#8 private key and an SPKI public key, both PEM. */
import { randomBytes } from 'node:crypto';
import { AirlockError } from '../base/errors.js';
import type { KeyType } from './algorithms.js';
import { generateEd25519 } from './ed25519.js';
import { keyIdOf } from './key-id.js';
import { encodePem } from './pem.js';
import { encryptPrivateKeyInfo } from './pkcs8.js';
import { generateRsa, RSA_DEFAULT_BITS, RSA_MIN_BITS } from './rsa-pss.js';

export interface GenerateKeyPairOptions {
  type: KeyType;
  /** RSA only; default 3072, smaller is refused. */
  bits?: number;
  passphrase: string;
}

export interface GeneratedKeyPair {
  type: KeyType;
  keyId: string;
  bits?: number;
  publicKeyPem: string;
  /** ENCRYPTED PRIVATE KEY (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256). */
  privateKeyPem: string;
}

export async function generateKeyPair(options: GenerateKeyPairOptions): Promise<GeneratedKeyPair> {
  if (options.passphrase === '') throw new AirlockError('PASSPHRASE_REQUIRED', 'an empty passphrase would leave the private key unprotected');
  let generated: { spki: Buffer; privateKeyInfo: Buffer };
  let bits: number | undefined;
  if (options.type === 'ed25519') {
    if (options.bits !== undefined) throw new AirlockError('USAGE', '--bits applies to RSA keys only');
    generated = generateEd25519(randomBytes(32));
  } else {
    bits = options.bits ?? RSA_DEFAULT_BITS;
    if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > 16384) {
      throw new AirlockError('USAGE', `RSA key size ${bits}: use ${RSA_MIN_BITS} to 16384 bits (smaller keys are refused)`);
    }
    generated = await generateRsa(bits);
  }
  return {
    type: options.type,
    keyId: keyIdOf(generated.spki),
    ...(bits === undefined ? {} : { bits }),
    publicKeyPem: encodePem('PUBLIC KEY', generated.spki),
    privateKeyPem: encodePem('ENCRYPTED PRIVATE KEY', encryptPrivateKeyInfo(generated.privateKeyInfo, options.passphrase)),
  };
}

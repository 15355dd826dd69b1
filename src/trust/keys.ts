/**
 * Public and signing keys as the rest of airlock sees them: a type, a key id and one
 * operation. Which algorithm sits behind is decided here from the key's OID.
 */
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { keyTypeOfOid, type KeyAlgorithm, type KeyType } from './algorithms.js';
import { ed25519Algorithm } from './ed25519.js';
import { keyIdOf } from './key-id.js';
import { decodePemBlocks, encodePem, type PemBlock } from './pem.js';
import { decryptPrivateKeyInfo, parsePrivateKeyInfo } from './pkcs8.js';
import { rsaPssAlgorithm } from './rsa-pss.js';
import { parseCertificate, parseCertificatesPem } from './certificate.js';
import { parseSpki } from './spki.js';

export interface PublicKey {
  type: KeyType;
  /** SHA-256 of the SPKI DER as written (what `openssl pkey -pubin -outform DER | sha256sum` prints). */
  keyId: string;
  /**
   * SHA-256 of the key's plain SPKI, rebuilt from its parameters (see KeyMaterial): one key,
   * one identity, however it is written down. Thresholds count identities, and revoking any
   * of a key's ids revokes the identity. Equal to keyId for Ed25519 and rsaEncryption keys.
   */
  identity: string;
  /** SPKI PEM of the key (also when it was read from a certificate). */
  pem: string;
  verify(data: Buffer, signature: Buffer): boolean;
}

export interface SigningKey {
  type: KeyType;
  keyId: string;
  publicKeyPem: string;
  /** false for an unencrypted PKCS#8 file: commands warn about it. */
  encrypted: boolean;
  sign(data: Buffer): Buffer;
}

/** A passphrase, or a way to get one that is only used when the key is encrypted. */
export type PassphraseSource = string | (() => Promise<string>);

const ALGORITHMS: Record<KeyType, KeyAlgorithm> = { ed25519: ed25519Algorithm, 'rsa-pss': rsaPssAlgorithm };

function algorithmFor(oid: string): KeyAlgorithm {
  const type = keyTypeOfOid(oid);
  if (type === undefined) throw new Error(`unsupported key algorithm ${oid} (use Ed25519 or RSA)`);
  return ALGORITHMS[type];
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A public key from SPKI DER; throws KEY_INVALID naming `source`. */
export function parsePublicKeyDer(spkiDer: Buffer, source: string): PublicKey {
  try {
    const spki = parseSpki(spkiDer);
    const algorithm = algorithmFor(spki.algorithmOid);
    const { verify, spki: canonical, plainSpki } = algorithm.publicKey(spki);
    if (!canonical.equals(spkiDer)) {
      throw new Error('not in canonical DER: its parameters re-encode to other bytes, which would give the key a second key id (`openssl pkey -pubin -in FILE` writes it canonically)');
    }
    return { type: algorithm.type, keyId: keyIdOf(spkiDer), identity: keyIdOf(plainSpki), pem: encodePem('PUBLIC KEY', spkiDer), verify };
  } catch (error) {
    throw new AirlockError('KEY_INVALID', `${source}: ${reason(error)}`, { cause: error });
  }
}

/**
 * A public key from a PEM holding a SubjectPublicKeyInfo (`PUBLIC KEY`) or a certificate
 * (`CERTIFICATE`: the first one's key; trusting the certificate is a separate question).
 */
export function parsePublicKeyPem(pem: string, source: string): PublicKey {
  const block = decodePemBlocks(pem).find((b) => b.label === 'PUBLIC KEY' || b.label === 'CERTIFICATE');
  if (block === undefined) throw new AirlockError('KEY_INVALID', `${source}: no PUBLIC KEY or CERTIFICATE PEM block`);
  let spkiDer = block.der;
  if (block.label === 'CERTIFICATE') {
    try {
      spkiDer = parseCertificate(block.der).spki;
    } catch (error) {
      throw new AirlockError('KEY_INVALID', `${source}: unreadable certificate: ${reason(error)}`, { cause: error });
    }
  }
  return parsePublicKeyDer(spkiDer, source);
}

function privateKeyBlock(blocks: PemBlock[], source: string): PemBlock {
  const block = blocks.find((b) => b.label === 'ENCRYPTED PRIVATE KEY' || b.label === 'PRIVATE KEY');
  if (block !== undefined) return block;
  const found = blocks.map((b) => b.label).join(', ') || 'no PEM block';
  throw new AirlockError(
    'KEY_INVALID',
    `${source}: not a PKCS#8 private key (found ${found}); convert it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW\``,
  );
}

/** A signing key from PKCS#8 PEM text, encrypted or not; throws PASSPHRASE_WRONG / KEY_INVALID naming `source`. */
export async function parseSigningKeyPem(pem: string, source: string, passphrase: PassphraseSource): Promise<SigningKey> {
  const block = privateKeyBlock(decodePemBlocks(pem), source);
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY';
  let der = block.der;
  if (encrypted) {
    const secret = typeof passphrase === 'string' ? passphrase : await passphrase();
    let decrypted: Buffer | undefined;
    try {
      decrypted = await decryptPrivateKeyInfo(block.der, secret);
    } catch (error) {
      throw new AirlockError('KEY_INVALID', `${source}: cannot decrypt: ${reason(error)}`, { cause: error });
    }
    if (decrypted === undefined) throw new AirlockError('PASSPHRASE_WRONG', `${source}: wrong passphrase`);
    der = decrypted;
  }
  try {
    const info = parsePrivateKeyInfo(der);
    const algorithm = algorithmFor(info.algorithmOid);
    const { spki, sign } = algorithm.signer(info);
    return { type: algorithm.type, keyId: keyIdOf(spki), publicKeyPem: encodePem('PUBLIC KEY', spki), encrypted, sign };
  } catch (error) {
    throw new AirlockError('KEY_INVALID', `${source}: ${reason(error)}`, { cause: error });
  }
}

export async function loadSigningKey(file: string, passphrase: PassphraseSource): Promise<SigningKey> {
  return parseSigningKeyPem(await readKeyFile(file), file, passphrase);
}

export async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

/**
 * The same signing key, presenting a certificate (chain: leaf first) instead of its bare
 * public key, so a bundle's `signatures/<keyid>.pem` carries it. The leaf must hold this key.
 */
export function withCertificate(key: SigningKey, certificatePem: string, source: string): SigningKey {
  const [leaf] = parseCertificatesPem(certificatePem, source);
  const certificateKeyId = leaf === undefined ? '' : keyIdOf(leaf.spki);
  if (certificateKeyId !== key.keyId) {
    throw new AirlockError('KEY_INVALID', `${source}: the certificate is for key ${certificateKeyId}, not for the signing key ${key.keyId}`);
  }
  const chain = decodePemBlocks(certificatePem).filter((block) => block.label === 'CERTIFICATE');
  return { ...key, publicKeyPem: chain.map((block) => encodePem('CERTIFICATE', block.der)).join('') };
}

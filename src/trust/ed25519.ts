/**
 * Ed25519 (RFC 8032 pure, RFC 8410 encodings). The signature maths is node:crypto's
 * (OpenSSL's): forge's pure-JS Ed25519 hashes the message with its own SHA-512, which takes
 * a quarter of a second over the SHA256SUMS of 20,000 files. Keys stay plain DER built here.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { OID_ED25519, type KeyAlgorithm } from './algorithms.js';
import { bytesOf, encodeDer, expectType, oid, parseDer, primitive, sequence, Type } from './der.js';
import { buildPrivateKeyInfo, type PrivateKeyInfo } from './pkcs8.js';
import { buildSpki, type Spki } from './spki.js';

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** RFC 8410: the AlgorithmIdentifier of Ed25519 has no parameters. */
function algorithm() {
  return sequence([oid(OID_ED25519)]);
}

export function ed25519Spki(publicKey: Buffer): Buffer {
  return buildSpki(algorithm(), publicKey);
}

/** PKCS#8 PrivateKeyInfo holding the 32-byte seed (CurvePrivateKey ::= OCTET STRING). */
export function ed25519PrivateKeyInfo(seed: Buffer): Buffer {
  return buildPrivateKeyInfo(algorithm(), encodeDer(primitive(Type.OCTETSTRING, seed)));
}

function privateKeyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: ed25519PrivateKeyInfo(seed), format: 'der', type: 'pkcs8' });
}

/** The 32-byte public point: the tail of the SPKI node:crypto derives from the private key. */
function publicKeyOf(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-PUBLIC_KEY_BYTES);
}

export const ed25519Algorithm: KeyAlgorithm = {
  type: 'ed25519',
  publicKey(spki: Spki) {
    if (spki.algorithmParams !== undefined) throw new Error('Ed25519 key with algorithm parameters (RFC 8410 forbids them)');
    if (spki.key.length !== PUBLIC_KEY_BYTES) throw new Error(`Ed25519 public key of ${spki.key.length} bytes (expected ${PUBLIC_KEY_BYTES})`);
    const spkiDer = ed25519Spki(spki.key);
    const publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
    return {
      spki: spkiDer,
      plainSpki: spkiDer,
      verify: (data, signature) => {
        if (signature.length !== SIGNATURE_BYTES) return false;
        try {
          return verify(null, data, publicKey, signature);
        } catch {
          return false;
        }
      },
    };
  },
  signer(info: PrivateKeyInfo) {
    if (info.algorithmParams !== undefined) throw new Error('Ed25519 key with algorithm parameters (RFC 8410 forbids them)');
    const seed = bytesOf(expectType(parseDer(info.privateKey), Type.OCTETSTRING, 'CurvePrivateKey'), 'CurvePrivateKey');
    if (seed.length !== SEED_BYTES) throw new Error(`Ed25519 private key of ${seed.length} bytes (expected ${SEED_BYTES})`);
    const privateKey = privateKeyFromSeed(seed);
    return { spki: ed25519Spki(publicKeyOf(privateKey)), sign: (data: Buffer) => sign(null, data, privateKey) };
  },
};

export function generateEd25519(seed: Buffer): { spki: Buffer; privateKeyInfo: Buffer } {
  return { spki: ed25519Spki(publicKeyOf(privateKeyFromSeed(seed))), privateKeyInfo: ed25519PrivateKeyInfo(seed) };
}

/** Ed25519 (RFC 8032 pure, RFC 8410 encodings) through forge, which only deals in raw key bytes. */
import { OID_ED25519, type KeyAlgorithm } from './algorithms.js';
import { bytesOf, encodeDer, expectType, oid, parseDer, primitive, sequence, Type } from './der.js';
import { forge, withoutBufferDeprecation } from './forge.js';
import { buildPrivateKeyInfo, type PrivateKeyInfo } from './pkcs8.js';
import { buildSpki, type Spki } from './spki.js';

const { ed25519 } = forge.pki;
const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;

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

function keyPairFromSeed(seed: Buffer): { publicKey: Buffer; privateKey: Buffer } {
  const pair = withoutBufferDeprecation(() => ed25519.generateKeyPair({ seed }));
  return { publicKey: Buffer.from(pair.publicKey), privateKey: Buffer.from(pair.privateKey) };
}

export const ed25519Algorithm: KeyAlgorithm = {
  type: 'ed25519',
  publicKey(spki: Spki) {
    if (spki.algorithmParams !== undefined) throw new Error('Ed25519 key with algorithm parameters (RFC 8410 forbids them)');
    if (spki.key.length !== PUBLIC_KEY_BYTES) throw new Error(`Ed25519 public key of ${spki.key.length} bytes (expected ${PUBLIC_KEY_BYTES})`);
    const publicKey = spki.key;
    const spkiDer = ed25519Spki(publicKey);
    return {
      spki: spkiDer,
      plainSpki: spkiDer,
      verify: (data, signature) => {
        if (signature.length !== ed25519.constants.SIGN_BYTE_LENGTH) return false;
        try {
          return withoutBufferDeprecation(() => ed25519.verify({ message: data, signature, publicKey }));
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
    const pair = keyPairFromSeed(seed);
    return {
      spki: ed25519Spki(pair.publicKey),
      sign: (data: Buffer) => Buffer.from(withoutBufferDeprecation(() => ed25519.sign({ message: data, privateKey: pair.privateKey }))),
    };
  },
};

export function generateEd25519(seed: Buffer): { spki: Buffer; privateKeyInfo: Buffer } {
  return { spki: ed25519Spki(keyPairFromSeed(seed).publicKey), privateKeyInfo: ed25519PrivateKeyInfo(seed) };
}

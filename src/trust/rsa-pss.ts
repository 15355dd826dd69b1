/**
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, through forge. Keys are written
 * with the plain rsaEncryption SPKI (what `openssl genpkey -algorithm RSA` makes, and what
 * X.509 tooling expects); `openssl genpkey -algorithm RSA-PSS` keys are read too, and their
 * parameter restrictions, if any, must allow exactly this scheme.
 */
import { createHash } from 'node:crypto';
import { OID_RSA_ENCRYPTION, OID_RSASSA_PSS, type KeyAlgorithm } from './algorithms.js';
import { bytesOf, children, encodeDer, explicit, oid, parseDer, parseStrictDer, primitive, sequence, Type, type Asn1 } from './der.js';
import { forge } from './forge.js';
import type { PrivateKeyInfo } from './pkcs8.js';
import { buildSpki, readAlgorithm, type Spki } from './spki.js';

export const RSA_MIN_BITS = 3072;
export const RSA_DEFAULT_BITS = 3072;
export const PSS_SALT_LENGTH = 32;
const DEFAULT_SALT_LENGTH = 20;

const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_MGF1 = '1.2.840.113549.1.1.8';

type RsaPublicKey = forge.pki.rsa.PublicKey;
type RsaPrivateKey = forge.pki.rsa.PrivateKey;

function scheme() {
  return forge.pss.create({ md: forge.md.sha256.create(), mgf: forge.mgf.mgf1.create(forge.md.sha256.create()), saltLength: PSS_SALT_LENGTH });
}

/**
 * The message digest forge's PSS needs, computed by node:crypto: forge's own SHA-256 runs
 * at ~72 MiB/s, and the signed SHA256SUMS of a bundle of 200,000 files is 20 MB. Forge only
 * ever asks the digest for its bytes (pss.encode), so this is all of the interface it uses.
 */
function sha256(data: Buffer): forge.md.MessageDigest {
  const bytes = createHash('sha256').update(data).digest().toString('binary');
  return { digest: () => forge.util.createBuffer(bytes) } as unknown as forge.md.MessageDigest;
}

function checkBits(n: forge.jsbn.BigInteger): void {
  if (n.signum() <= 0) throw new Error('RSA key with a modulus that is not positive');
  const bits = n.bitLength();
  if (bits < RSA_MIN_BITS) throw new Error(`RSA key of ${bits} bits; airlock requires ${RSA_MIN_BITS} or more`);
}

export interface PssParams {
  hash: string;
  mgfHash: string;
  saltLength: number;
}

/** RSASSA-PSS-params (RFC 4055 §3.1), absent fields at their (SHA-1) defaults. */
export function readPssParams(params: Asn1): PssParams {
  const result: PssParams = { hash: OID_SHA1, mgfHash: OID_SHA1, saltLength: 20 };
  for (const field of children(params, 'RSASSA-PSS-params')) {
    const [inner] = children(field, 'RSASSA-PSS-params field');
    if (inner === undefined) continue;
    if (field.type === 0) result.hash = readAlgorithm(inner)[0];
    if (field.type === 1) {
      const [mgf, mgfParams] = readAlgorithm(inner);
      result.mgfHash = mgf === OID_MGF1 && mgfParams !== undefined ? readAlgorithm(mgfParams)[0] : mgf;
    }
    if (field.type === 2) result.saltLength = Number.parseInt(bytesOf(inner, 'saltLength').toString('hex'), 16);
  }
  return result;
}

export function isOurPssScheme(params: PssParams): boolean {
  return params.hash === OID_SHA256 && params.mgfHash === OID_SHA256 && params.saltLength === PSS_SALT_LENGTH;
}

/**
 * RSASSA-PSS-params in the one form OpenSSL writes for every restriction we accept (RFC 4055
 * §3.1): SHA-256 and MGF1-SHA-256, each with NULL parameters; the salt length unless it is
 * the DEFAULT 20; no trailerField.
 */
function pssParams(saltLength: number): Asn1 {
  const sha256 = () => sequence([oid(OID_SHA256), primitive(Type.NULL, Buffer.alloc(0))]);
  return sequence([
    explicit(0, sha256()),
    explicit(1, sequence([oid(OID_MGF1), sha256()])),
    ...(saltLength === DEFAULT_SALT_LENGTH ? [] : [explicit(2, primitive(Type.INTEGER, Buffer.from([saltLength])))]),
  ]);
}

/** The AlgorithmIdentifier of our signatures inside certificates and requests. */
export function pssSignatureAlgorithm(): Asn1 {
  return sequence([oid(OID_RSASSA_PSS), pssParams(PSS_SALT_LENGTH)]);
}

/**
 * A key's AlgorithmIdentifier rebuilt from what it says: rsaEncryption with NULL, or
 * id-RSASSA-PSS bare or with its restrictions, which must allow our scheme (SHA-256,
 * MGF1-SHA-256, a salt of 32 or less). Anything else throws.
 */
function canonicalAlgorithm(algorithmOid: string, params: Asn1 | undefined): Asn1 {
  if (algorithmOid === OID_RSA_ENCRYPTION) return sequence([oid(OID_RSA_ENCRYPTION), primitive(Type.NULL, Buffer.alloc(0))]);
  if (algorithmOid !== OID_RSASSA_PSS) throw new Error(`not an RSA key (algorithm ${algorithmOid})`);
  if (params === undefined || params.type === Type.NULL) return sequence([oid(OID_RSASSA_PSS)]);
  const { hash, mgfHash, saltLength } = readPssParams(params);
  if (hash !== OID_SHA256 || mgfHash !== OID_SHA256 || saltLength > PSS_SALT_LENGTH) {
    throw new Error(`RSA-PSS key restricted to hash ${hash}, MGF1 hash ${mgfHash}, salt ${saltLength}; airlock signs with SHA-256, MGF1-SHA-256, salt ${PSS_SALT_LENGTH}`);
  }
  return sequence([oid(OID_RSASSA_PSS), pssParams(saltLength)]);
}

/** The SPKI of `key` under its (canonical) algorithm identifier. */
function spkiOf(algorithm: Asn1, key: RsaPublicKey): Buffer {
  return buildSpki(algorithm, encodeDer(forge.pki.publicKeyToRSAPublicKey(key)));
}

export function rsaPublicSpki(key: RsaPublicKey): Buffer {
  return encodeDer(forge.pki.publicKeyToAsn1(key));
}

export function rsaPrivateKeyInfo(key: RsaPrivateKey): Buffer {
  return encodeDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key)));
}

export const rsaPssAlgorithm: KeyAlgorithm = {
  type: 'rsa-pss',
  publicKey(spki: Spki) {
    const algorithm = canonicalAlgorithm(spki.algorithmOid, spki.algorithmParams);
    const key = forge.pki.publicKeyFromAsn1(parseStrictDer(spki.key, 'RSAPublicKey')) as RsaPublicKey;
    checkBits(key.n);
    return {
      spki: spkiOf(algorithm, key),
      plainSpki: rsaPublicSpki(key),
      verify: (data, signature) => {
        try {
          return key.verify(sha256(data).digest().getBytes(), signature.toString('binary'), scheme());
        } catch {
          // forge throws on a signature of the wrong length or out of range: simply not valid.
          return false;
        }
      },
    };
  },
  signer(info: PrivateKeyInfo) {
    const algorithm = canonicalAlgorithm(info.algorithmOid, info.algorithmParams);
    const key = forge.pki.privateKeyFromAsn1(parseDer(info.privateKey)) as RsaPrivateKey;
    checkBits(key.n);
    // An RSA-PSS key's public half keeps its algorithm identifier, as `openssl pkey -pubout` does, so key ids agree.
    const spki = spkiOf(algorithm, forge.pki.setRsaPublicKey(key.n, key.e));
    return { spki, sign: (data: Buffer) => Buffer.from(key.sign(sha256(data), scheme()), 'binary') };
  },
};

/** Uses forge's generator, which hands the prime search to node:crypto when it can (seconds in pure JS otherwise). */
export async function generateRsa(bits: number): Promise<{ spki: Buffer; privateKeyInfo: Buffer }> {
  const pair = await new Promise<forge.pki.rsa.KeyPair>((resolve, reject) => {
    forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }, (error, keys) => (error ? reject(error) : resolve(keys)));
  });
  return { spki: rsaPublicSpki(pair.publicKey), privateKeyInfo: rsaPrivateKeyInfo(pair.privateKey) };
}

/**
 * Signature algorithms inside X.509 certificates and PKCS#10 requests. We sign with our own
 * two schemes (Ed25519, RSASSA-PSS SHA-256/32); we also verify sha256/384/512WithRSAEncryption
 * (PKCS#1 v1.5), which is what most organisation CAs issue with. forge's own certificate code
 * only knows RSA keys, so Ed25519 goes through our key layer.
 */
import { OID_ED25519, OID_RSA_ENCRYPTION, OID_RSASSA_PSS, type KeyType } from './algorithms.js';
import { oid, parseDer, sequence, type Asn1 } from './der.js';
import { forge } from './forge.js';
import { parsePublicKeyDer } from './keys.js';
import { isOurPssScheme, pssSignatureAlgorithm, readPssParams, RSA_MIN_BITS } from './rsa-pss.js';
import { parseSpki, readAlgorithm } from './spki.js';

const PKCS1_DIGESTS: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

export function signatureAlgorithmFor(type: KeyType): Asn1 {
  return type === 'ed25519' ? sequence([oid(OID_ED25519)]) : pssSignatureAlgorithm();
}

/** Whether `signature` over `data` verifies with the issuer's key; throws an Error for an algorithm or key we do not accept. */
export function verifySignature(algorithm: Asn1, issuerSpki: Buffer, data: Buffer, signature: Buffer): boolean {
  const [algorithmOid, params] = readAlgorithm(algorithm);
  if (algorithmOid === OID_ED25519 || algorithmOid === OID_RSASSA_PSS) {
    if (algorithmOid === OID_RSASSA_PSS && (params === undefined || !isOurPssScheme(readPssParams(params)))) {
      throw new Error('RSASSA-PSS signature with parameters other than SHA-256, MGF1-SHA-256, salt 32');
    }
    const key = parsePublicKeyDer(issuerSpki, 'issuer key');
    const expected = algorithmOid === OID_ED25519 ? 'ed25519' : 'rsa-pss';
    if (key.type !== expected) throw new Error(`a ${expected} signature by a ${key.type} key`);
    return key.verify(data, signature);
  }
  const digest = PKCS1_DIGESTS[algorithmOid];
  if (digest === undefined) throw new Error(`unsupported signature algorithm ${algorithmOid} (Ed25519, RSA-PSS and RSA PKCS#1 v1.5 with SHA-2 are accepted)`);
  const spki = parseSpki(issuerSpki);
  if (spki.algorithmOid !== OID_RSA_ENCRYPTION) throw new Error(`an RSA signature by a key of algorithm ${spki.algorithmOid}`);
  const key = forge.pki.publicKeyFromAsn1(parseDer(spki.key)) as forge.pki.rsa.PublicKey;
  if (key.n.bitLength() < RSA_MIN_BITS) throw new Error(`RSA key of ${key.n.bitLength()} bits; airlock requires ${RSA_MIN_BITS} or more`);
  const md = forge.md[digest].create().update(data.toString('binary'));
  try {
    return key.verify(md.digest().getBytes(), signature.toString('binary'));
  } catch {
    return false;
  }
}

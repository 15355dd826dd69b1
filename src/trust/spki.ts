/** SubjectPublicKeyInfo (RFC 5280 §4.1): the DER a key id is computed over. */
import { bytesOf, children, encodeDer, expectType, oidOf, parseStrictDer, primitive, sequence, Type, type Asn1 } from './der.js';

export interface Spki {
  der: Buffer;
  /** The AlgorithmIdentifier node as read, so it can be copied byte for byte. */
  algorithm: Asn1;
  algorithmOid: string;
  /** Parameters of the algorithm, if any (RSASSA-PSS restrictions, rsaEncryption NULL). */
  algorithmParams: Asn1 | undefined;
  /** BIT STRING contents without the unused-bits octet. */
  key: Buffer;
}

/** Throws an Error unless `der` is a SubjectPublicKeyInfo in DER (see parseStrictDer). */
export function parseSpki(der: Buffer): Spki {
  const root = expectType(parseStrictDer(der, 'SubjectPublicKeyInfo'), Type.SEQUENCE, 'SubjectPublicKeyInfo');
  const [algorithm, bits, ...rest] = children(root, 'SubjectPublicKeyInfo');
  if (algorithm === undefined || bits === undefined || rest.length > 0) throw new Error('SubjectPublicKeyInfo: expected algorithm and key');
  const [algorithmOid, algorithmParams] = readAlgorithm(algorithm);
  const raw = bytesOf(expectType(bits, Type.BITSTRING, 'subjectPublicKey'), 'subjectPublicKey');
  if (raw.length < 1 || raw[0] !== 0) throw new Error('subjectPublicKey: not a whole number of bytes');
  return { der, algorithm, algorithmOid, algorithmParams, key: raw.subarray(1) };
}

export function readAlgorithm(node: Asn1): [string, Asn1 | undefined] {
  const [oidNode, params, ...rest] = children(expectType(node, Type.SEQUENCE, 'AlgorithmIdentifier'), 'AlgorithmIdentifier');
  if (rest.length > 0) throw new Error('AlgorithmIdentifier: too many fields');
  return [oidOf(oidNode, 'algorithm'), params];
}

export function buildSpki(algorithm: Asn1, key: Buffer): Buffer {
  return encodeDer(sequence([algorithm, primitive(Type.BITSTRING, Buffer.concat([Buffer.from([0]), key]))]));
}


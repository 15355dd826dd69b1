/** PKCS#10 certification requests (RFC 2986): a subject and key, signed by that key as proof of possession. */
import { AirlockError } from '../base/errors.js';
import { readName, type NameAttribute } from './certificate.js';
import { bytesOf, children, encodeDer, expectType, parseDer, primitive, sequence, Type } from './der.js';
import { forge } from './forge.js';
import { keyIdOf } from './key-id.js';
import type { SigningKey } from './keys.js';
import { decodePemBlocks, encodePem } from './pem.js';
import { signatureAlgorithmFor, verifySignature } from './signature-algorithms.js';
import { signed } from './certificate-build.js';

export interface CertificateRequest {
  subject: Buffer;
  subjectAttributes: NameAttribute[];
  spki: Buffer;
  keyId: string;
}

export function createCertificateRequest(subject: Buffer, key: SigningKey): string {
  const spki = decodePemBlocks(key.publicKeyPem)[0]?.der ?? Buffer.alloc(0);
  const attributes = forge.asn1.create(forge.asn1.Class.CONTEXT_SPECIFIC, 0, true, []);
  const info = encodeDer(sequence([primitive(Type.INTEGER, Buffer.from([0])), parseDer(subject), parseDer(spki), attributes]));
  return encodePem('CERTIFICATE REQUEST', signed(info, signatureAlgorithmFor(key.type), key));
}

/** Reads a request and checks its self-signature; CERTIFICATE_INVALID naming `source`. */
export function parseCertificateRequest(pem: string, source: string): CertificateRequest {
  const block = decodePemBlocks(pem).find((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
  if (block === undefined) throw new AirlockError('CERTIFICATE_INVALID', `${source}: no CERTIFICATE REQUEST PEM block`);
  let request: CertificateRequest;
  let valid: boolean;
  try {
    const [info, algorithm, signatureBits] = children(expectType(parseDer(block.der), Type.SEQUENCE, 'CertificationRequest'), 'CertificationRequest');
    const [, subject, spki] = children(expectType(info, Type.SEQUENCE, 'CertificationRequestInfo'), 'CertificationRequestInfo');
    const signature = bytesOf(expectType(signatureBits, Type.BITSTRING, 'signature'), 'signature');
    if (info === undefined || algorithm === undefined || spki === undefined || signature[0] !== 0) throw new Error('malformed request');
    const spkiDer = encodeDer(spki);
    const name = readName(subject, 'subject');
    request = { subject: name.der, subjectAttributes: name.attributes, spki: spkiDer, keyId: keyIdOf(spkiDer) };
    valid = verifySignature(algorithm, spkiDer, encodeDer(info), signature.subarray(1));
  } catch (error) {
    throw new AirlockError('CERTIFICATE_INVALID', `${source}: unreadable certificate request: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!valid) throw new AirlockError('CERTIFICATE_INVALID', `${source}: the request's signature does not verify with its own key (altered after signing?)`);
  if (request.subjectAttributes.length === 0) throw new AirlockError('CERTIFICATE_INVALID', `${source}: the request has an empty subject`);
  return request;
}

/**
 * X.509 certificates read by hand over forge's ASN.1: forge's certificate parser refuses
 * every key that is not RSA, Ed25519 included. forge still decodes names and extensions.
 */
import { AirlockError } from '../base/errors.js';
import { bytesOf, children, CONTEXT_SPECIFIC, encodeDer, expectType, parseStrictDer, Type, type Asn1 } from './der.js';
import { forge } from './forge.js';
import { decodePemBlocks } from './pem.js';

export interface NameAttribute {
  type: string;
  shortName?: string;
  value: string;
}

export interface Certificate {
  der: Buffer;
  /** The signed part, byte for byte. */
  tbs: Buffer;
  /** Lowercase hex without leading zeros (see normalizeSerial). */
  serial: string;
  /** Name DER, compared byte for byte when chaining. */
  issuer: Buffer;
  subject: Buffer;
  subjectAttributes: NameAttribute[];
  issuerAttributes: NameAttribute[];
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  signatureAlgorithm: Asn1;
  signature: Buffer;
  isCa: boolean;
  pathLength: number | undefined;
  /** undefined when the certificate has no keyUsage extension. */
  keyUsage: { digitalSignature: boolean; keyCertSign: boolean } | undefined;
  /** Extended key usages by name (or OID); undefined when the extension is absent. */
  extKeyUsage: string[] | undefined;
  /** Critical extensions we do not enforce: RFC 5280 says such a certificate must be rejected. */
  unsupportedCritical: string[];
}

/** forge exports these, but @types/node-forge does not declare them. */
const forgePki = forge.pki as unknown as {
  RDNAttributesAsArray(rdn: Asn1): Array<{ type: string; shortName?: string; value: string }>;
  certificateExtensionsFromAsn1(extensions: Asn1): ForgeExtension[];
};

const ENFORCED_CRITICAL = new Set(['basicConstraints', 'keyUsage', 'extKeyUsage']);

/** Serial numbers as people write them (`0A:1B`, `0x0a1b`, `a1b`) compare equal. */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/^0x/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new Error(`serial ${serial}: expected hex digits`);
  return BigInt(`0x${hex}`).toString(16);
}

function readTime(node: Asn1 | undefined, what: string): Date {
  if (node?.type === Type.UTCTIME) return forge.asn1.utcTimeToDate(bytesOf(node, what).toString('binary'));
  if (node?.type === Type.GENERALIZEDTIME) return forge.asn1.generalizedTimeToDate(bytesOf(node, what).toString('binary'));
  throw new Error(`${what}: expected a time`);
}

export function readName(node: Asn1 | undefined, what: string): { der: Buffer; attributes: NameAttribute[] } {
  const name = expectType(node, Type.SEQUENCE, what);
  const attributes = forgePki.RDNAttributesAsArray(name).map((a) => ({
    type: a.type,
    ...(a.shortName === undefined ? {} : { shortName: a.shortName }),
    // Attribute values are UTF8String or PrintableString; forge hands their raw bytes over.
    value: Buffer.from(a.value, 'binary').toString('utf8'),
  }));
  return { der: encodeDer(name), attributes };
}

interface ForgeExtension {
  name?: string;
  id: string;
  critical: boolean;
  cA?: boolean;
  pathLenConstraint?: number;
  digitalSignature?: boolean;
  keyCertSign?: boolean;
  [usage: string]: unknown;
}

function readExtensions(node: Asn1 | undefined): Pick<Certificate, 'isCa' | 'pathLength' | 'keyUsage' | 'extKeyUsage' | 'unsupportedCritical'> {
  const result: Pick<Certificate, 'isCa' | 'pathLength' | 'keyUsage' | 'extKeyUsage' | 'unsupportedCritical'> = {
    isCa: false,
    pathLength: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    unsupportedCritical: [],
  };
  if (node === undefined) return result;
  const extensions = forgePki.certificateExtensionsFromAsn1(node);
  for (const extension of extensions) {
    const name = extension.name ?? extension.id;
    if (extension.critical && !ENFORCED_CRITICAL.has(name)) result.unsupportedCritical.push(name);
    if (name === 'basicConstraints') {
      result.isCa = extension.cA === true;
      result.pathLength = extension.pathLenConstraint;
    } else if (name === 'keyUsage') {
      result.keyUsage = { digitalSignature: extension.digitalSignature === true, keyCertSign: extension.keyCertSign === true };
    } else if (name === 'extKeyUsage') {
      result.extKeyUsage = Object.keys(extension).filter((key) => extension[key] === true && key !== 'critical');
    }
  }
  return result;
}

/** Throws an Error unless `der` is a certificate in DER (see parseStrictDer). */
export function parseCertificate(der: Buffer): Certificate {
  const [tbsNode, signatureAlgorithm, signatureBits] = children(expectType(parseStrictDer(der, 'Certificate'), Type.SEQUENCE, 'Certificate'), 'Certificate');
  const fields = children(expectType(tbsNode, Type.SEQUENCE, 'TBSCertificate'), 'TBSCertificate');
  const first = fields[0];
  const offset = first !== undefined && first.tagClass === CONTEXT_SPECIFIC && first.type === 0 ? 1 : 0;
  const [serial, , issuer, validity, subject, spki] = fields.slice(offset);
  const [notBefore, notAfter] = children(expectType(validity, Type.SEQUENCE, 'validity'), 'validity');
  const extensions = fields.slice(offset + 6).find((field) => field.tagClass === CONTEXT_SPECIFIC && field.type === 3);
  const rawSignature = bytesOf(expectType(signatureBits, Type.BITSTRING, 'signature'), 'signature');
  if (signatureAlgorithm === undefined || rawSignature[0] !== 0) throw new Error('Certificate: malformed signature');
  const issuerName = readName(issuer, 'issuer');
  const subjectName = readName(subject, 'subject');
  return {
    der,
    tbs: encodeDer(tbsNode as Asn1),
    serial: normalizeSerial(bytesOf(expectType(serial, Type.INTEGER, 'serialNumber'), 'serialNumber').toString('hex') || '0'),
    issuer: issuerName.der,
    subject: subjectName.der,
    issuerAttributes: issuerName.attributes,
    subjectAttributes: subjectName.attributes,
    notBefore: readTime(notBefore, 'notBefore'),
    notAfter: readTime(notAfter, 'notAfter'),
    spki: encodeDer(expectType(spki, Type.SEQUENCE, 'subjectPublicKeyInfo')),
    signatureAlgorithm,
    signature: rawSignature.subarray(1),
    ...readExtensions(extensions),
  };
}

/** Every certificate in a PEM text, first (the leaf, in a chain) first; CERTIFICATE_INVALID naming `source`. */
export function parseCertificatesPem(text: string, source: string): Certificate[] {
  const blocks = decodePemBlocks(text).filter((block) => block.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new AirlockError('CERTIFICATE_INVALID', `${source}: no CERTIFICATE PEM block`);
  return blocks.map((block, index) => {
    try {
      return parseCertificate(block.der);
    } catch (error) {
      const which = blocks.length > 1 ? ` (certificate ${index + 1})` : '';
      throw new AirlockError('CERTIFICATE_INVALID', `${source}${which}: unreadable certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  });
}

export function nameAttribute(attributes: NameAttribute[], shortName: string): string[] {
  return attributes.filter((a) => a.shortName === shortName).map((a) => a.value);
}

/** `CN=alice, OU=security, O=Example`: for messages and listings. */
export function describeName(attributes: NameAttribute[]): string {
  return attributes.map((a) => `${a.shortName ?? a.type}=${a.value}`).join(', ');
}

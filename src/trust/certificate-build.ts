/**
 * Writing X.509 certificates (RFC 5280) for a small offline CA, with Ed25519 or RSA-PSS
 * issuer keys. Built over forge's ASN.1 by hand: forge's certificate builder only signs
 * with RSA PKCS#1 v1.5 and only holds RSA keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import { encodeDer, explicit, oid, parseDer, primitive, sequence, Type, type Asn1 } from './der.js';
import { forge } from './forge.js';
import type { SigningKey } from './keys.js';
import { encodePem } from './pem.js';
import { signatureAlgorithmFor } from './signature-algorithms.js';
import { parseSpki } from './spki.js';

export interface SubjectName {
  commonName: string;
  /** One OU per role: how a certificate asks a trusted authority for roles. */
  roles?: string[];
  organization?: string;
}

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_OU = '2.5.4.11';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_SUBJECT_KEY_ID = '2.5.29.14';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

function utf8(value: string): Asn1 {
  return primitive(Type.UTF8, Buffer.from(value, 'utf8'));
}

function set(items: Asn1[]): Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, Type.SET, true, items);
}

/** Name DER: O, then OUs, then CN, one attribute per RDN (the order openssl prints). */
export function encodeName(name: SubjectName): Buffer {
  const attributes: Array<[string, string]> = [];
  if (name.organization !== undefined) attributes.push([OID_O, name.organization]);
  for (const role of name.roles ?? []) attributes.push([OID_OU, role]);
  attributes.push([OID_CN, name.commonName]);
  return encodeDer(sequence(attributes.map(([type, value]) => set([sequence([oid(type), utf8(value)])]))));
}

function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const fields = [oid(id)];
  if (critical) fields.push(primitive(Type.BOOLEAN, Buffer.from([0xff])));
  fields.push(primitive(Type.OCTETSTRING, encodeDer(value)));
  return sequence(fields);
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits. */
export function subjectKeyIdentifier(spki: Buffer): Buffer {
  return createHash('sha256').update(parseSpki(spki).key).digest().subarray(0, 20);
}

// keyUsage BIT STRINGs: first octet = unused bits. digitalSignature is bit 0; keyCertSign 5, cRLSign 6.
const KEY_USAGE_SIGNER = Buffer.from([0x07, 0x80]);
const KEY_USAGE_CA = Buffer.from([0x01, 0x06]);

function time(date: Date): Asn1 {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050
    ? primitive(Type.UTCTIME, Buffer.from(forge.asn1.dateToUtcTime(date), 'binary'))
    : primitive(Type.GENERALIZEDTIME, Buffer.from(forge.asn1.dateToGeneralizedTime(date), 'binary'));
}

/** 16 random bytes, positive and without a leading zero octet (RFC 5280 §4.1.2.2). */
function newSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

export interface CertificateTemplate {
  subject: Buffer;
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  kind: 'ca' | 'signer';
}

export interface Issuer {
  /** Issuer Name DER (the CA certificate's subject; the subject itself when self-signed). */
  name: Buffer;
  spki: Buffer;
  key: SigningKey;
}

/** Signs a certificate; returns its PEM. */
export function issueCertificate(template: CertificateTemplate, issuer: Issuer): string {
  const usage =
    template.kind === 'ca'
      ? [
          // pathLen 0: this small CA issues signer certificates only, no intermediates.
          extension(OID_BASIC_CONSTRAINTS, true, sequence([primitive(Type.BOOLEAN, Buffer.from([0xff])), primitive(Type.INTEGER, Buffer.from([0]))])),
          extension(OID_KEY_USAGE, true, primitive(Type.BITSTRING, KEY_USAGE_CA)),
        ]
      : [
          extension(OID_BASIC_CONSTRAINTS, true, sequence([])),
          extension(OID_KEY_USAGE, true, primitive(Type.BITSTRING, KEY_USAGE_SIGNER)),
          extension(OID_EXT_KEY_USAGE, false, sequence([oid(OID_CODE_SIGNING)])),
        ];
  const identifiers = [
    extension(OID_SUBJECT_KEY_ID, false, primitive(Type.OCTETSTRING, subjectKeyIdentifier(template.spki))),
    extension(OID_AUTHORITY_KEY_ID, false, sequence([forge.asn1.create(forge.asn1.Class.CONTEXT_SPECIFIC, 0, false, subjectKeyIdentifier(issuer.spki).toString('binary'))])),
  ];
  const algorithm = signatureAlgorithmFor(issuer.key.type);
  const tbs = encodeDer(
    sequence([
      explicit(0, primitive(Type.INTEGER, Buffer.from([2]))),
      primitive(Type.INTEGER, newSerial()),
      algorithm,
      parseDer(issuer.name),
      sequence([time(template.notBefore), time(template.notAfter)]),
      parseDer(template.subject),
      parseDer(template.spki),
      explicit(3, sequence([...usage, ...identifiers])),
    ]),
  );
  return encodePem('CERTIFICATE', signed(tbs, algorithm, issuer.key));
}

/** SEQUENCE { data, algorithm, BIT STRING signature }: the shape of certificates and PKCS#10 requests. */
export function signed(data: Buffer, algorithm: Asn1, key: SigningKey): Buffer {
  const signature = key.sign(data);
  return encodeDer(sequence([parseDer(data), algorithm, primitive(Type.BITSTRING, Buffer.concat([Buffer.from([0]), signature]))]));
}

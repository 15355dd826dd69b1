/**
 * Buffer <-> forge ASN.1 at the edges of the trust code. forge works on binary strings;
 * feeding it a Buffer where it expects one silently uses the wrong bytes (NOTES.md), so
 * every conversion goes through here.
 */
import { forge } from './forge.js';

export type Asn1 = forge.asn1.Asn1;

const { asn1 } = forge;

/** Strict DER parse of the whole buffer. BIT STRINGs stay raw (first byte = unused bits) so re-encoding is byte-exact. */
export function parseDer(der: Buffer): Asn1 {
  // @types/node-forge still declares the old boolean second parameter; forge 1.x takes options.
  const fromDer = asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: object) => Asn1;
  return fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

/**
 * The tree of `der` after checking it is DER, the one encoding of its value, not merely BER
 * that parses: definite lengths in their shortest form, primitive strings, INTEGERs without
 * redundant leading octets, BOOLEANs 00 or FF. Two encodings of one key would give it two key
 * ids, so airlock reads keys and certificates in DER only. Throws an Error naming `what`.
 */
export function parseStrictDer(der: Buffer, what: string): Asn1 {
  const node = parseDer(der);
  if (!encodeDer(node).equals(der)) throw new Error(`${what}: not DER-encoded (a length is not in its shortest, definite form)`);
  checkCanonical(node, what);
  return node;
}

const CONSTRUCTED_TYPES = new Set<number>([asn1.Type.SEQUENCE, asn1.Type.SET]);

function checkCanonical(node: Asn1, what: string): void {
  if (Array.isArray(node.value)) {
    if (node.tagClass === asn1.Class.UNIVERSAL && !CONSTRUCTED_TYPES.has(node.type)) throw new Error(`${what}: not DER-encoded (a constructed string)`);
    for (const child of node.value as Asn1[]) checkCanonical(child, what);
    return;
  }
  if (node.tagClass !== asn1.Class.UNIVERSAL) return;
  const bytes = Buffer.from(node.value as string, 'binary');
  if (node.type === asn1.Type.INTEGER && (bytes.length === 0 || (bytes.length > 1 && ((bytes[0] === 0x00 && bytes[1]! < 0x80) || (bytes[0] === 0xff && bytes[1]! >= 0x80))))) {
    throw new Error(`${what}: not DER-encoded (an INTEGER with redundant leading octets)`);
  }
  if (node.type === asn1.Type.BOOLEAN && !(bytes.length === 1 && (bytes[0] === 0x00 || bytes[0] === 0xff))) {
    throw new Error(`${what}: not DER-encoded (a BOOLEAN other than 00 or FF)`);
  }
}

export function encodeDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export function children(node: Asn1 | undefined, what: string): Asn1[] {
  if (node === undefined || !Array.isArray(node.value)) throw new Error(`${what}: expected a constructed ASN.1 value`);
  return node.value as Asn1[];
}

export function bytesOf(node: Asn1 | undefined, what: string): Buffer {
  if (node === undefined || typeof node.value !== 'string') throw new Error(`${what}: expected a primitive ASN.1 value`);
  return Buffer.from(node.value, 'binary');
}

export function expectType(node: Asn1 | undefined, type: number, what: string): Asn1 {
  if (node === undefined || node.tagClass !== asn1.Class.UNIVERSAL || node.type !== type) throw new Error(`${what}: unexpected ASN.1 type`);
  return node;
}

export function oidOf(node: Asn1 | undefined, what: string): string {
  return asn1.derToOid(bytesOf(expectType(node, asn1.Type.OID, what), what).toString('binary'));
}

export function sequence(items: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

export function primitive(type: number, bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, type, false, bytes.toString('binary'));
}

export function oid(dotted: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

/** A context-specific [tag] EXPLICIT wrapper. */
export function explicit(tag: number, inner: Asn1): Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, [inner]);
}

export const Type = asn1.Type;
export const CONTEXT_SPECIFIC = asn1.Class.CONTEXT_SPECIFIC;

/**
 * The same public key written down in other ways, for "one key, one vote" tests: an RSA key
 * under each algorithm identifier airlock accepts, and any key in BER (non-minimal lengths,
 * a padded INTEGER) instead of DER. Built by hand, since no tool writes these on purpose.
 */
import forge from 'node-forge';
import { encodeDer, explicit, oid, parseDer, primitive, sequence, Type } from '../../src/trust/der.js';
import { buildSpki, parseSpki } from '../../src/trust/spki.js';

export type Random = (n: number) => number;

/** A small deterministic generator, so a failing case can be replayed from its seed. */
export function seeded(seed: number): Random {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const MGF1 = '1.2.840.113549.1.1.8';

/**
 * One RSA key's SPKI under each algorithm identifier: `accepted` are the canonical forms
 * (what OpenSSL writes: rsaEncryption with NULL, id-RSASSA-PSS bare or with each salt a key
 * may be restricted to), `refused` are valid DER that is not canonical.
 */
export function rsaEncodings(spkiDer: Buffer): Record<'accepted' | 'refused', Array<{ label: string; der: Buffer }>> {
  const rsaPublicKey = parseSpki(spkiDer).key;
  const nul = primitive(Type.NULL, Buffer.alloc(0));
  const hash = (withNull: boolean) => sequence([oid(SHA256), ...(withNull ? [nul] : [])]);
  const pss = (salt: number | undefined, withNull = true) =>
    sequence([
      oid(RSASSA_PSS),
      sequence([
        explicit(0, hash(withNull)),
        explicit(1, sequence([oid(MGF1), hash(withNull)])),
        ...(salt === undefined ? [] : [explicit(2, primitive(Type.INTEGER, Buffer.from([salt])))]),
      ]),
    ]);
  const form = (label: string, algorithm: ReturnType<typeof sequence>) => ({ label, der: buildSpki(algorithm, rsaPublicKey) });
  const salts = Array.from({ length: 33 }, (_, salt) => salt).filter((salt) => salt !== 20);
  return {
    accepted: [
      form('rsaEncryption', sequence([oid(RSA_ENCRYPTION), nul])),
      form('id-RSASSA-PSS', sequence([oid(RSASSA_PSS)])),
      form('id-RSASSA-PSS, salt 20 (the default, left out)', pss(undefined)),
      ...salts.map((salt) => form(`id-RSASSA-PSS, salt ${salt}`, pss(salt))),
    ],
    refused: [
      form('rsaEncryption without NULL', sequence([oid(RSA_ENCRYPTION)])),
      form('id-RSASSA-PSS, hashes without NULL', pss(32, false)),
      form('id-RSASSA-PSS, the default salt 20 written out', pss(20)),
      form('id-RSASSA-PSS, NULL parameters', sequence([oid(RSASSA_PSS), nul])),
    ],
  };
}

interface Tlv {
  tag: number;
  /** Contents: children of a constructed value, else its bytes. */
  children?: Tlv[];
  bytes?: Buffer;
}

function readTlv(der: Buffer, at: number): [Tlv, number] {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = Number.parseInt(der.subarray(start, start + count).toString('hex') || '0', 16);
    start += count;
  }
  const end = start + length;
  if (tag & 0x20) {
    const children: Tlv[] = [];
    for (let position = start; position < end; ) {
      const [child, next] = readTlv(der, position);
      children.push(child);
      position = next;
    }
    return [{ tag, children }, end];
  }
  return [{ tag, bytes: der.subarray(start, end) }, end];
}

function flatten(node: Tlv): Tlv[] {
  return [node, ...(node.children ?? []).flatMap(flatten)];
}

function writeTlv(node: Tlv, longForm: ReadonlySet<Tlv>): Buffer {
  const content = node.children ? Buffer.concat(node.children.map((child) => writeTlv(child, longForm))) : node.bytes!;
  const length = content.length;
  let header: Buffer;
  if (longForm.has(node)) {
    // Long form with a leading zero octet: never the shortest form, so BER but not DER.
    const digits = Buffer.from(length.toString(16).padStart(length > 0xff ? 4 : 2, '0'), 'hex');
    header = Buffer.from([node.tag, 0x80 | (digits.length + 1), 0, ...digits]);
  } else if (length < 0x80) {
    header = Buffer.from([node.tag, length]);
  } else {
    const digits = Buffer.from(length.toString(16).padStart(length > 0xff ? 4 : 2, '0'), 'hex');
    header = Buffer.from([node.tag, 0x80 | digits.length, ...digits]);
  }
  return Buffer.concat([header, content]);
}

/** `der` with one or more of its lengths (chosen at random) in a non-minimal long form. */
export function berVariant(der: Buffer, random: Random): Buffer {
  const [root] = readTlv(der, 0);
  const nodes = flatten(root);
  const chosen = new Set<Tlv>();
  const count = 1 + random(2);
  while (chosen.size < count) chosen.add(nodes[random(nodes.length)]!);
  return writeTlv(root, chosen);
}

/** An RSA SPKI whose RSAPublicKey (inside the BIT STRING) is BER: a length in long form or an INTEGER with a redundant zero octet. */
export function innerBerVariant(spkiDer: Buffer, random: Random): Buffer {
  const spki = parseSpki(spkiDer);
  let inner: Buffer;
  if (random(2) === 0) {
    inner = berVariant(spki.key, random);
  } else {
    const key = forge.pki.publicKeyFromAsn1(parseDer(spki.key)) as forge.pki.rsa.PublicKey;
    const padded = (value: forge.jsbn.BigInteger) => {
      const hex = value.toString(16);
      return primitive(Type.INTEGER, Buffer.concat([Buffer.from([0, 0]), Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex')]));
    };
    inner = encodeDer(sequence([padded(key.n), padded(key.e)]));
  }
  return buildSpki(spki.algorithm, inner);
}

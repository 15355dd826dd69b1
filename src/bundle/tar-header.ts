/**
 * Tar headers for bundle entries, encoded and decoded by node-tar's Header/Pax.
 * Every field but path and size is fixed, so the same entry always encodes to the same bytes.
 *
 * Most entries of a bundle have a short ASCII path: their header is a fixed block (mode,
 * uid/gid, mtime, type, magic: node-tar's own encoding of a stand-in entry) with the name,
 * the size and the checksum written in, which is what node-tar itself writes for them and
 * costs a copy instead of an object and a dozen string encodings. Tens of thousands of
 * headers are encoded at build and twice more at verify. Any other entry goes to node-tar.
 */
import { Header, Pax } from 'tar';
import { TAR_BLOCK } from './format.js';

/** node-tar writes a path of fewer than 100 bytes whole into the name field (no prefix split). */
const NAME_FIELD_PATH_BYTES = 100;
/** The largest size the 12-byte octal field holds (node-tar's limit before base-256). */
const MAX_OCTAL_SIZE = 0o77777777777;
const SIZE_OFFSET = 124;
const SIZE_FIELD = 12;
const CHECKSUM_OFFSET = 148;
const CHECKSUM_FIELD = 8;
const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** node-tar's block for every field but name, size and checksum, per mode and mtime: bundles use one mtime and two modes. */
const templates = new Map<string, Template | undefined>();

export function encodeFileHeader(path: string, size: number, mode: number, mtime: Date): Buffer {
  const base = fitsOneBlock(path, size) ? template(mode, mtime) : undefined;
  return base === undefined ? nodeTarHeader(path, size, mode, mtime) : fastHeader(path, size, base);
}

/** The bytes encodeFileHeader will take, without making them (a writer lays out 200,000 entries before it writes one). */
export function fileHeaderLength(path: string, size: number, mode: number, mtime: Date): number {
  return fitsOneBlock(path, size) && template(mode, mtime) !== undefined ? TAR_BLOCK : nodeTarHeader(path, size, mode, mtime).length;
}

function fitsOneBlock(path: string, size: number): boolean {
  return path.length < NAME_FIELD_PATH_BYTES && ASCII_PRINTABLE.test(path) && Number.isSafeInteger(size) && size >= 0 && size <= MAX_OCTAL_SIZE;
}

function nodeTarHeader(path: string, size: number, mode: number, mtime: Date): Buffer {
  const fields = { path, size, mode, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'File' as const };
  const block = Buffer.alloc(TAR_BLOCK);
  const needPax = new Header(fields).encode(block, 0);
  if (!needPax) return block;
  // Paths past ustar's 255 bytes and sizes past 8 GiB go in a PAX extended header first.
  // The ustar fields then carry only a short stand-in name, as GNU tar writes them: a
  // split prefix there would be glued onto the PAX path by some readers (node-tar among them).
  const standIn = Buffer.from(path.slice(path.lastIndexOf('/') + 1), 'utf8').subarray(0, 99).toString('latin1');
  new Header({ ...fields, path: standIn }).encode(block.fill(0), 0);
  return Buffer.concat([new Pax({ path, size, mtime }).encode(), block]);
}

interface Template {
  block: Buffer;
  /** The header checksum of the block with an empty name and its size field: a header adds its own name and size. */
  baseSum: number;
}

/** Undefined for a mode or mtime node-tar cannot hold in one block (never a bundle's): those entries take node-tar's path. */
function template(mode: number, mtime: Date): Template | undefined {
  const key = `${mode}:${mtime.getTime()}`;
  if (!templates.has(key)) {
    const block = nodeTarHeader('x', 0, mode, mtime);
    if (block.length !== TAR_BLOCK) templates.set(key, undefined);
    else {
      block.fill(0, 0, NAME_FIELD_PATH_BYTES).fill(0, SIZE_OFFSET, SIZE_OFFSET + SIZE_FIELD).fill(0x20, CHECKSUM_OFFSET, CHECKSUM_OFFSET + CHECKSUM_FIELD);
      templates.set(key, { block, baseSum: byteSum(block, 0, TAR_BLOCK) });
    }
  }
  return templates.get(key);
}

function fastHeader(path: string, size: number, base: Template): Buffer {
  const block = Buffer.from(base.block);
  block.write(path, 0, 'latin1');
  writeOctal(block, SIZE_OFFSET, SIZE_FIELD, size);
  const sum = base.baseSum + byteSum(block, 0, path.length) + byteSum(block, SIZE_OFFSET, SIZE_OFFSET + SIZE_FIELD);
  writeOctal(block, CHECKSUM_OFFSET, CHECKSUM_FIELD, sum);
  return block;
}

function byteSum(block: Buffer, start: number, end: number): number {
  let sum = 0;
  for (let index = start; index < end; index++) sum += block[index]!;
  return sum;
}

/** node-tar's octal field: zero-padded digits, a space and a NUL (or all digits and a NUL when they fill it). */
function writeOctal(block: Buffer, offset: number, field: number, value: number): void {
  const digits = value.toString(8);
  const text = digits.length === field - 1 ? `${digits}\0` : `${digits.padStart(field - 2, '0')} \0`;
  block.write(text, offset, field, 'latin1');
}

export function paddedSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * TAR_BLOCK);

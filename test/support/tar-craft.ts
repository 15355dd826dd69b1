/**
 * Makes tar files by hand for tamper tests: the bundle writer refuses links, devices and
 * unsafe paths, so hostile archives are assembled here from raw node-tar headers. Regular
 * files get the very header the writer gives them (src/bundle/tar-header.ts), so what a
 * test changes is only what it means to change.
 */
import { open } from 'node:fs/promises';
import { Header } from 'tar';
import { fileModeFor } from '../../src/bundle/format.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { encodeFileHeader } from '../../src/bundle/tar-header.js';

export interface CraftEntry {
  path: string;
  data?: Buffer;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'Directory';
  linkpath?: string;
  /** Default: the epoch. */
  mtime?: Date;
}

export function craftTar(entries: readonly CraftEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    const mtime = entry.mtime ?? new Date(0);
    if (entry.type === undefined || entry.type === 'File') {
      parts.push(encodeFileHeader(entry.path, data.length, fileModeFor(entry.path), mtime), data, Buffer.alloc((512 - (data.length % 512)) % 512));
      continue;
    }
    const block = Buffer.alloc(512);
    new Header({ path: entry.path, type: entry.type, linkpath: entry.linkpath, size: 0, mode: 0o644, uid: 0, gid: 0, mtime }).encode(block, 0);
    parts.push(block);
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Every entry of a bundle, in order, with its data: the raw material for a tampered copy. */
export async function bundleEntries(file: string): Promise<CraftEntry[]> {
  const reader = await BundleReader.open(file);
  try {
    const entries: CraftEntry[] = [];
    for (const entry of reader.entries) entries.push({ path: entry.path, data: await reader.readFile(entry.path), mtime: entry.mtime });
    return entries;
  } finally {
    await reader.close();
  }
}

/** Flips one bit of the byte `at` bytes into `path`'s data in a bundle file, in place. */
export async function flipByte(file: string, path: string, at = 0): Promise<void> {
  const reader = await BundleReader.open(file);
  const offset = reader.entry(path).dataOffset + at;
  await reader.close();
  await flipByteAt(file, offset);
}

/** Flips one bit of the byte at `offset` of any file, in place (a volume of release media, say). */
export async function flipByteAt(file: string, offset: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0x01;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** Recomputes a header block's checksum the way the writer (node-tar) writes it: 6 octal digits, space, NUL. */
export function fixHeaderChecksum(data: Buffer, block: number): void {
  data.fill(0x20, block + 148, block + 156);
  let sum = 0;
  for (let i = block; i < block + 512; i++) sum += data[i]!;
  data.write(`${sum.toString(8).padStart(6, '0')} \0`, block + 148, 'latin1');
}

/** A number field in base-256 (GNU tar's form for numbers octal cannot hold), `size` bytes wide. */
export function base256Field(value: bigint, size: number): Buffer {
  const field = Buffer.alloc(size);
  let rest = value < 0n ? (1n << BigInt(size * 8)) + value : value;
  for (let i = size - 1; i >= 0; i--) {
    field[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  field[0] = value < 0n ? 0xff : field[0]! | 0x80;
  return field;
}

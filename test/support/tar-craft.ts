/**
 * Makes tar files by hand for tamper tests: the bundle writer refuses links, devices and
 * unsafe paths, so hostile archives are assembled here from raw node-tar headers.
 */
import { open } from 'node:fs/promises';
import { Header } from 'tar';
import { BundleReader } from '../../src/bundle/reader.js';

export interface CraftEntry {
  path: string;
  data?: Buffer;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'Directory';
  linkpath?: string;
}

export function craftTar(entries: readonly CraftEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    const block = Buffer.alloc(512);
    new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      linkpath: entry.linkpath,
      size: entry.type === undefined || entry.type === 'File' ? data.length : 0,
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    }).encode(block, 0);
    parts.push(block);
    if (entry.type === undefined || entry.type === 'File') {
      parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Every entry of a bundle, in order, with its data: the raw material for a tampered copy. */
export async function bundleEntries(file: string): Promise<CraftEntry[]> {
  const reader = await BundleReader.open(file);
  try {
    const entries: CraftEntry[] = [];
    for (const entry of reader.entries) entries.push({ path: entry.path, data: await reader.readFile(entry.path) });
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

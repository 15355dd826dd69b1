/**
 * Tar headers for bundle entries, encoded and decoded by node-tar's Header/Pax.
 * Every field but path and size is fixed, so the same entry always encodes to the same bytes.
 */
import { Header, Pax } from 'tar';
import { TAR_BLOCK } from './format.js';

export function encodeFileHeader(path: string, size: number, mode: number, mtime: Date): Buffer {
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

export function paddedSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * TAR_BLOCK);

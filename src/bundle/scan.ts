/**
 * Walks a bundle's tar headers without reading the data between them, and refuses
 * anything a bundle may not hold: links, devices, directories, unsafe or duplicate
 * paths, entries that run past the end of the file. Only regular files come out.
 *
 * No byte outside the files may carry anything: every header must be exactly the one
 * src/bundle/tar-header.ts writes for that entry (PAX header included, the mode its path
 * calls for, uid/gid 0, empty names, magic, checksum field and all), the padding after
 * each file must be zeros, and the archive must end with two zero blocks at exactly the
 * end of the file. Only the mtime is left for the verifier, which knows `created`. Any
 * header that is malformed (unreadable numbers, base-256 where the writer writes octal,
 * out of range) is BUNDLE_FORMAT naming the entry and its byte offset.
 */
import { Header, Pax, type HeaderData } from 'tar';
import { AirlockError } from '../base/errors.js';
import type { ByteSource } from '../fs/byte-source.js';
import { TAR_BLOCK, fileModeFor } from './format.js';
import { isSafeBundlePath } from './safe-path.js';
import { END_OF_ARCHIVE, encodeFileHeader, paddedSize } from './tar-header.js';

export interface BundleEntry {
  path: string;
  size: number;
  /** Byte offset of the entry's data in the bundle (across volumes: in the joined bytes). */
  dataOffset: number;
  mode: number;
  /** Byte offset of the entry's first header block (its PAX header, when it has one). */
  headerOffset: number;
  /** The modification time its header records: the verifier holds it to airlock.json's `created`. */
  mtime: Date;
}

const NAME_FIELD = 100;
const SIZE_FIELD = [124, 12] as const;
const MTIME_FIELD = [136, 12] as const;
const REGULAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
/** Headers of small entries sit close together: one read of this size serves many of them. */
const READ_AHEAD_BYTES = 256 * 1024;
/** The writer's PAX records (path, size, mtime) fit in a few KiB; anything larger is not ours. */
const MAX_PAX_BYTES = 64 * 1024;

/** ustar header fields by offset, to say which one differs. */
const FIELDS: Array<[number, string]> = [
  [0, 'name'], [100, 'mode'], [108, 'uid'], [116, 'gid'], [124, 'size'], [136, 'mtime'], [148, 'checksum'], [156, 'type'],
  [157, 'linkname'], [257, 'magic'], [263, 'version'], [265, 'uname'], [297, 'gname'], [329, 'devmajor'], [337, 'devminor'],
  [345, 'prefix'], [500, 'padding'],
];

/** `handle` is anything with a positional read: a FileHandle, or a ByteSource spanning volumes. */
export async function scanEntries(handle: Pick<ByteSource, 'read'>, fileSize: number, name: string): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  const seen = new Set<string>();
  const bytes = new Window(handle, fileSize);
  let offset = 0;
  // Every header of a bundle records one time: one Date for all, not one per entry (200,000 of them at scale).
  let lastMtime = new Date(0);

  for (;;) {
    if (offset + TAR_BLOCK > fileSize) {
      throw new AirlockError('BUNDLE_TRUNCATED', `${name}: ends at byte ${fileSize} without the end-of-archive marker (truncated?)`);
    }
    const block = await bytes.range(offset, offset + TAR_BLOCK);
    if (isZero(block)) {
      await checkEnd(bytes, offset, fileSize, name);
      return entries;
    }
    const headerOffset = offset;
    const { path, size, mtime: read, dataOffset } = plainEntry(block, offset) ?? (await generalEntry(bytes, block, offset, fileSize, name));
    const mtime = read.getTime() === lastMtime.getTime() ? lastMtime : (lastMtime = read);
    const end = dataOffset + paddedSize(size);
    if (end > fileSize) {
      throw new AirlockError('BUNDLE_TRUNCATED', `${name}: ${path} is cut short: ${Math.min(size, fileSize - dataOffset)} of ${size} bytes present, and its padding`);
    }
    if (seen.has(path)) throw new AirlockError('FILE_DUPLICATE', `${name}: ${path} appears twice`);
    seen.add(path);
    if (!isZero(await bytes.range(dataOffset + size, end))) {
      throw new AirlockError('BUNDLE_FORMAT', `${name}: ${JSON.stringify(path)} (entry at byte ${headerOffset}): the padding after its data (bytes ${dataOffset + size} to ${end}) is not zeros`);
    }
    entries.push({ path, size, dataOffset, mode: fileModeFor(path), headerOffset, mtime });
    offset = end;
  }
}

interface EntryHeader {
  path: string;
  size: number;
  mtime: Date;
  dataOffset: number;
}

/** Any header, read by node-tar and held to the writer's bytes: PAX, prefix, and every malformed one, each with its precise error. */
async function generalEntry(bytes: Window, block: Buffer, headerOffset: number, fileSize: number, name: string): Promise<EntryHeader> {
  let offset = headerOffset;
  let header = readHeader(block, undefined, `${name}: entry at byte ${offset}`);
  let extended: HeaderData | undefined;
  if (header.type === 'ExtendedHeader') {
    const where = `${name}: PAX header at byte ${offset}`;
    const size = header.size;
    if (size === undefined || !Number.isSafeInteger(size) || size > MAX_PAX_BYTES) throw new AirlockError('BUNDLE_FORMAT', `${where}: size field is not a PAX header's size`);
    if (offset + TAR_BLOCK + paddedSize(size) + TAR_BLOCK > fileSize) throw new AirlockError('BUNDLE_TRUNCATED', `${where}: cut short`);
    const body = await bytes.range(offset + TAR_BLOCK, offset + TAR_BLOCK + size);
    try {
      extended = Pax.parse(body.toString('utf8'), undefined, false);
    } catch (cause) {
      throw new AirlockError('BUNDLE_FORMAT', `${where}: unreadable PAX records`, { cause });
    }
    offset += TAR_BLOCK + paddedSize(size);
    header = readHeader(await bytes.range(offset, offset + TAR_BLOCK), extended, `${name}: entry at byte ${offset} (after the PAX header at byte ${headerOffset})`);
  }
  // node-tar glues a ustar prefix onto a PAX path; the PAX path alone is the name.
  const path = extended?.path ?? header.path ?? '';
  const where = `${name}: ${JSON.stringify(path)} (entry at byte ${headerOffset})`;
  if (!REGULAR_FILE_TYPES.has(header.type)) {
    const target = header.linkpath ? ` -> ${header.linkpath}` : '';
    throw new AirlockError('UNSAFE_ENTRY', `${name}: ${path}${target}: ${header.type} entries are not allowed in a bundle (regular files only)`);
  }
  if (!isSafeBundlePath(path)) throw new AirlockError('UNSAFE_PATH', `${name}: unsafe path ${JSON.stringify(path)}`);

  const { size, mtime } = header;
  if (size === undefined || !Number.isSafeInteger(size)) throw new AirlockError('BUNDLE_FORMAT', `${where}: size field is not a byte count`);
  if (mtime === undefined || !Number.isFinite(mtime.getTime())) throw new AirlockError('BUNDLE_FORMAT', `${where}: mtime field is not a time`);
  const dataOffset = offset + TAR_BLOCK;
  await checkCanonical(bytes, { path, size, mtime, headerOffset, dataOffset }, where);
  return { path, size, mtime, dataOffset };
}

/**
 * The common entry read without node-tar: a block that is, byte for byte, the writer's
 * single-block header for the name, size and mtime it holds (which therefore are what
 * node-tar would read from it). Anything else (PAX, prefix, another form, a malformed
 * field) is undefined and takes the general path, with its precise errors.
 */
function plainEntry(block: Buffer, headerOffset: number): EntryHeader | undefined {
  const nameEnd = block.indexOf(0);
  if (nameEnd <= 0 || nameEnd >= NAME_FIELD) return undefined;
  const path = block.toString('latin1', 0, nameEnd);
  const size = octalField(block, SIZE_FIELD);
  const seconds = octalField(block, MTIME_FIELD);
  if (size === undefined || seconds === undefined) return undefined;
  const mtime = new Date(seconds * 1000);
  const expected = encodeFileHeader(path, size, fileModeFor(path), mtime);
  // Only a safe path can be the writer's: an unsafe one takes the general path, which names it.
  return expected.equals(block) && isSafeBundlePath(path) ? { path, size, mtime, dataOffset: headerOffset + TAR_BLOCK } : undefined;
}

/** A numeric field in either form the writer uses (octal digits, then a space and a NUL or, when they fill it, a NUL), or undefined. */
function octalField(block: Buffer, [start, length]: readonly [number, number]): number | undefined {
  const match = /^([0-7]+) ?\0$/.exec(block.toString('latin1', start, start + length));
  return match ? parseInt(match[1]!, 8) : undefined;
}

function readHeader(block: Buffer, extended: HeaderData | undefined, where: string): Header {
  let header: Header;
  try {
    header = new Header(block, 0, extended);
  } catch (cause) {
    // node-tar throws on numbers it cannot hold (base-256 beyond 2^53, say).
    throw new AirlockError('BUNDLE_FORMAT', `${where}: unreadable header (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  if (!header.cksumValid) throw new AirlockError('BUNDLE_FORMAT', `${where}: header checksum is wrong (corrupt or not a tar file)`);
  return header;
}

/** The header bytes must be exactly what the writer produces for this path, size, mode rule and mtime. */
async function checkCanonical(
  bytes: Window,
  entry: { path: string; size: number; mtime: Date; headerOffset: number; dataOffset: number },
  where: string,
): Promise<void> {
  let expected: Buffer;
  try {
    expected = encodeFileHeader(entry.path, entry.size, fileModeFor(entry.path), entry.mtime);
  } catch (cause) {
    throw new AirlockError('BUNDLE_FORMAT', `${where}: header values no bundle holds (size ${entry.size}, mtime ${entry.mtime.getTime()})`, { cause });
  }
  const actual = await bytes.range(entry.headerOffset, entry.dataOffset);
  if (actual.equals(expected)) return;
  if (actual.length !== expected.length) {
    const form = expected.length > TAR_BLOCK ? 'a PAX header (for its long path or large size)' : 'a single ustar header block (no PAX header)';
    throw new AirlockError('BUNDLE_FORMAT', `${where}: airlock writes ${form} for this entry, not ${actual.length / TAR_BLOCK} header block(s)`);
  }
  const ustarStart = actual.length - TAR_BLOCK;
  // A changed field changes the checksum too: name the field, unless the checksum alone differs.
  const inChecksum = (index: number) => (index < TAR_BLOCK || index >= ustarStart) && index % TAR_BLOCK >= 148 && index % TAR_BLOCK < 156;
  const differing = [...actual.keys()].filter((index) => actual[index] !== expected[index]);
  const at = differing.find((index) => !inChecksum(index)) ?? differing[0]!;
  const field = at < ustarStart ? 'PAX header' : `${[...FIELDS].reverse().find(([start]) => at - ustarStart >= start)![1]} field`;
  throw new AirlockError(
    'BUNDLE_FORMAT',
    `${where}: header is not the one airlock writes (${field} differs at byte ${entry.headerOffset + at}; mode ${fileModeFor(entry.path).toString(8)}, uid/gid 0, no user or group names, ustar format)`,
  );
}

/** Two zero blocks end the archive, and nothing follows them: no hidden entry, no junk, no second archive. */
async function checkEnd(bytes: Window, offset: number, fileSize: number, name: string): Promise<void> {
  const end = offset + END_OF_ARCHIVE.length;
  if (fileSize < end) throw new AirlockError('BUNDLE_TRUNCATED', `${name}: ends at byte ${fileSize}, inside the end-of-archive marker at byte ${offset}`);
  if (!isZero(await bytes.range(offset + TAR_BLOCK, end))) {
    throw new AirlockError('BUNDLE_FORMAT', `${name}: data at byte ${offset + TAR_BLOCK}, after a zero block: a bundle ends with exactly two zero blocks`);
  }
  if (fileSize > end) {
    throw new AirlockError('BUNDLE_FORMAT', `${name}: ${fileSize - end} byte(s) after the end-of-archive marker at byte ${offset} (the bundle must end at byte ${end}): a hidden entry or appended data`);
  }
}

const ZERO_BLOCK = Buffer.alloc(TAR_BLOCK);

function isZero(data: Buffer): boolean {
  for (let start = 0; start < data.length; start += TAR_BLOCK) {
    const part = data.subarray(start, start + TAR_BLOCK);
    if (!part.equals(ZERO_BLOCK.subarray(0, part.length))) return false;
  }
  return true;
}

/** Small reads served from a read-ahead window, so a run of small entries costs one read, not one per header. */
class Window {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: Pick<ByteSource, 'read'>,
    private readonly fileSize: number,
  ) {}

  /** Bytes [start, end), which the caller has checked lie within the file. */
  async range(start: number, end: number): Promise<Buffer> {
    if (start < this.windowStart || end > this.windowStart + this.window.length) {
      this.window = Buffer.alloc(Math.min(Math.max(READ_AHEAD_BYTES, end - start), this.fileSize - start));
      this.windowStart = start;
      await readExactly(this.handle, this.window, start);
    }
    return this.window.subarray(start - this.windowStart, end - this.windowStart);
  }
}

async function readExactly(handle: Pick<ByteSource, 'read'>, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new AirlockError('BUNDLE_TRUNCATED', `unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

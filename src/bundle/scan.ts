/**
 * Walks a bundle's tar headers without reading the data between them, and refuses
 * anything a bundle may not hold: links, devices, directories, unsafe or duplicate
 * paths, entries that run past the end of the file. Only regular files come out.
 */
import { Header, Pax, type HeaderData } from 'tar';
import { AirlockError } from '../base/errors.js';
import type { ByteSource } from '../fs/byte-source.js';
import { TAR_BLOCK } from './format.js';
import { isSafeBundlePath } from './safe-path.js';
import { paddedSize } from './tar-header.js';

export interface BundleEntry {
  path: string;
  size: number;
  /** Byte offset of the entry's data in the bundle (across volumes: in the joined bytes). */
  dataOffset: number;
  mode: number;
}

const REGULAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
/** Headers of small entries sit close together: one read of this size serves many of them. */
const READ_AHEAD_BYTES = 256 * 1024;

/** `handle` is anything with a positional read: a FileHandle, or a ByteSource spanning volumes. */
export async function scanEntries(handle: Pick<ByteSource, 'read'>, fileSize: number, name: string): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  const seen = new Set<string>();
  const blocks = new HeaderBlocks(handle, fileSize);
  let offset = 0;
  let extended: HeaderData | undefined;

  for (;;) {
    if (offset + TAR_BLOCK > fileSize) {
      throw new AirlockError('BUNDLE_TRUNCATED', `${name}: ends at byte ${fileSize} without the end-of-archive marker (truncated?)`);
    }
    const block = await blocks.at(offset);
    if (block.every((byte) => byte === 0)) return entries;

    const header = new Header(block, 0, extended);
    const where = `${name}: entry at byte ${offset}`;
    if (!header.cksumValid) throw new AirlockError('BUNDLE_FORMAT', `${where}: header checksum is wrong (corrupt or not a tar file)`);
    const size = header.size ?? 0;
    const dataOffset = offset + TAR_BLOCK;
    // node-tar glues a ustar prefix onto a PAX path; the PAX path alone is the name.
    const path = extended?.path ?? header.path ?? '';
    if (dataOffset + size > fileSize) {
      throw new AirlockError('BUNDLE_TRUNCATED', `${name}: ${path || where} is cut short: ${fileSize - dataOffset} of ${size} bytes present`);
    }

    if (header.type === 'ExtendedHeader') {
      const body = Buffer.alloc(size);
      await readExactly(handle, body, dataOffset);
      extended = Pax.parse(body.toString('utf8'), extended, false);
      offset = dataOffset + paddedSize(size);
      continue;
    }
    extended = undefined;
    if (!REGULAR_FILE_TYPES.has(header.type)) {
      const target = header.linkpath ? ` -> ${header.linkpath}` : '';
      throw new AirlockError('UNSAFE_ENTRY', `${name}: ${path}${target}: ${header.type} entries are not allowed in a bundle (regular files only)`);
    }
    if (!isSafeBundlePath(path)) throw new AirlockError('UNSAFE_PATH', `${name}: unsafe path ${JSON.stringify(path)}`);
    if (seen.has(path)) throw new AirlockError('FILE_DUPLICATE', `${name}: ${path} appears twice`);
    seen.add(path);
    entries.push({ path, size, dataOffset, mode: header.mode ?? 0 });
    offset = dataOffset + paddedSize(size);
  }
}

/** 512-byte blocks served from a read-ahead window, so a run of small entries costs one read, not one per header. */
class HeaderBlocks {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: Pick<ByteSource, 'read'>,
    private readonly fileSize: number,
  ) {}

  async at(offset: number): Promise<Buffer> {
    if (offset < this.windowStart || offset + TAR_BLOCK > this.windowStart + this.window.length) {
      this.window = Buffer.alloc(Math.min(READ_AHEAD_BYTES, this.fileSize - offset));
      this.windowStart = offset;
      await readExactly(this.handle, this.window, offset);
    }
    return this.window.subarray(offset - this.windowStart, offset - this.windowStart + TAR_BLOCK);
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

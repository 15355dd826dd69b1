/**
 * Random access to a bundle's files without extracting them: the header scan gives
 * each file's offset, and reads go straight to those bytes. The bytes may be one file or
 * release media (numbered volumes: src/media/open-bundle.ts joins them into one byte source):
 * everything above sees one bundle.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AirlockError } from '../base/errors.js';
import type { CopyAndHashJob } from '../hash/copy-and-hash.js';
import { openFileSource, type ByteSource, type FileRange } from '../fs/byte-source.js';
import { scanEntries, type BundleEntry } from './scan.js';

export type { BundleEntry } from './scan.js';

const STREAM_CHUNK = 1024 * 1024;

export class BundleReader {
  private readonly byPath: Map<string, BundleEntry>;

  private constructor(
    /** The path it was opened with: a bundle file, a media directory or a first volume. */
    readonly file: string,
    readonly entries: readonly BundleEntry[],
    private readonly source: ByteSource,
  ) {
    this.byPath = new Map(entries.map((entry) => [entry.path, entry]));
  }

  /** A bundle file (release media are opened by src/media/open-bundle.ts). */
  static async open(file: string): Promise<BundleReader> {
    return BundleReader.openSource(file, await openFileSource(file));
  }

  /** Reads an already opened source (media verify hands over the volumes it checked); closes it on failure. */
  static async openSource(file: string, source: ByteSource): Promise<BundleReader> {
    try {
      const entries = await scanEntries(source, source.size, file);
      return new BundleReader(file, entries, source);
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  /** Total bytes of the bundle (summed over volumes). */
  get size(): number {
    return this.source.size;
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  entry(path: string): BundleEntry {
    const entry = this.byPath.get(path);
    if (!entry) throw new AirlockError('FILE_MISSING', `${this.file}: has no ${path}`);
    return entry;
  }

  async readFile(path: string): Promise<Buffer> {
    const entry = this.entry(path);
    const data = Buffer.alloc(entry.size);
    let done = 0;
    while (done < entry.size) {
      const { bytesRead } = await this.source.read(data, done, entry.size - done, entry.dataOffset + done);
      if (bytesRead === 0) throw new AirlockError('BUNDLE_TRUNCATED', `${this.file}: ${path} is cut short`);
      done += bytesRead;
    }
    return data;
  }

  /** readFile without a promise: a config batch reads thousands of small files one after another. */
  readFileSync(path: string): Buffer {
    const entry = this.entry(path);
    const data = Buffer.allocUnsafe(entry.size);
    let done = 0;
    while (done < entry.size) {
      const bytesRead = this.source.readSync(data, done, entry.size - done, entry.dataOffset + done);
      if (bytesRead === 0) throw new AirlockError('BUNDLE_TRUNCATED', `${this.file}: ${path} is cut short`);
      done += bytesRead;
    }
    return data;
  }

  /**
   * The file's bytes, or only bytes `start` to `end` (inclusive, as node:fs counts them), read
   * `chunkBytes` at a time (smaller chunks hold less memory per stream when many run at once).
   */
  createReadStream(path: string, range?: { start: number; end: number }, chunkBytes = STREAM_CHUNK): Readable {
    const entry = this.entry(path);
    const start = range?.start ?? 0;
    const length = range === undefined ? entry.size : Math.min(range.end + 1, entry.size) - start;
    if (length <= 0) return Readable.from([]);
    const ranges = this.source.ranges(entry.dataOffset + start, length);
    if (ranges.length === 1) return rangeStream(ranges[0]!, chunkBytes);
    return Readable.from(chained(ranges, chunkBytes), { objectMode: false, highWaterMark: chunkBytes });
  }

  /** A hash-pool job for one entry's bytes, in segments when the entry spans volumes. */
  hashJob(entry: BundleEntry): CopyAndHashJob {
    const ranges = this.source.ranges(entry.dataOffset, entry.size);
    const [first] = ranges as [FileRange];
    if (ranges.length === 1) return { source: first.source, start: first.start, length: entry.size };
    return { source: first.source, start: first.start, length: entry.size, segments: ranges };
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}

function rangeStream(range: FileRange, chunkBytes: number): Readable {
  return createReadStream(range.source, { start: range.start, end: range.start + range.length - 1, highWaterMark: chunkBytes });
}

async function* chained(ranges: readonly FileRange[], chunkBytes: number): AsyncGenerator<Buffer> {
  for (const range of ranges) {
    for await (const chunk of rangeStream(range, chunkBytes)) yield chunk as Buffer;
  }
}

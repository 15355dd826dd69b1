/**
 * Random access to a bundle's files without extracting them: the header scan gives
 * each file's offset, and reads go straight to those bytes.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { AirlockError } from '../errors.js';
import { scanEntries, type BundleEntry } from './scan.js';

export type { BundleEntry } from './scan.js';

export class BundleReader {
  private readonly byPath: Map<string, BundleEntry>;

  private constructor(
    readonly file: string,
    readonly size: number,
    readonly entries: readonly BundleEntry[],
    private readonly handle: FileHandle,
  ) {
    this.byPath = new Map(entries.map((entry) => [entry.path, entry]));
  }

  static async open(file: string): Promise<BundleReader> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (cause) {
      throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot open (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
    }
    try {
      const { size } = await handle.stat();
      const entries = await scanEntries(handle, size, file);
      return new BundleReader(file, size, entries, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
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
      const { bytesRead } = await this.handle.read(data, done, entry.size - done, entry.dataOffset + done);
      if (bytesRead === 0) throw new AirlockError('BUNDLE_TRUNCATED', `${this.file}: ${path} is cut short`);
      done += bytesRead;
    }
    return data;
  }

  createReadStream(path: string): Readable {
    const entry = this.entry(path);
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: entry.dataOffset, end: entry.dataOffset + entry.size - 1, highWaterMark: 1024 * 1024 });
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

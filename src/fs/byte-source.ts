/**
 * The bytes of a bundle, wherever they lie: one file, or an ordered list of volume files
 * (release media) read as if they were joined. Readers and hashers see one offset space;
 * `ranges` says which file ranges hold a logical range, so a file split across two volumes
 * is still read and hashed as one run of bytes, and nothing is ever joined on disk.
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';

/** A run of bytes in one file on disk. */
export interface FileRange {
  source: string;
  start: number;
  length: number;
}

export interface ByteSource {
  /** What messages call it: the bundle file, or the media directory / first volume. */
  readonly name: string;
  readonly size: number;
  /** Positional read, FileHandle-shaped; may return fewer bytes than asked at a volume's end. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** The same read, blocking: for thousands of small files a promise each costs more than the read. */
  readSync(buffer: Buffer, offset: number, length: number, position: number): number;
  /** The file ranges holding [start, start + length), in order. */
  ranges(start: number, length: number): FileRange[];
  close(): Promise<void>;
}

/** One part of a spanned source, in order. */
export interface SourcePart {
  file: string;
  size: number;
}

async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot open (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

export async function openFileSource(file: string): Promise<ByteSource> {
  const handle = await openForReading(file);
  try {
    const { size } = await handle.stat();
    return new SpannedSource(file, [{ file, size }], [handle]);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Parts must exist with exactly the sizes given (the caller checked them against its index). */
export async function openSpannedSource(name: string, parts: readonly SourcePart[]): Promise<ByteSource> {
  const handles: FileHandle[] = [];
  try {
    for (const part of parts) handles.push(await openForReading(part.file));
    return new SpannedSource(name, parts, handles);
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()));
    throw error;
  }
}

class SpannedSource implements ByteSource {
  readonly size: number;
  /** Logical offset at which each part starts. */
  private readonly starts: number[];

  constructor(
    readonly name: string,
    private readonly parts: readonly SourcePart[],
    private readonly handles: readonly FileHandle[],
  ) {
    this.starts = [];
    let at = 0;
    for (const part of parts) {
      this.starts.push(at);
      at += part.size;
    }
    this.size = at;
  }

  ranges(start: number, length: number): FileRange[] {
    const out: FileRange[] = [];
    let position = start;
    let left = length;
    for (let index = this.partAt(start); left > 0 && index < this.parts.length; index++) {
      const within = position - this.starts[index]!;
      const take = Math.min(left, this.parts[index]!.size - within);
      if (take <= 0) continue;
      out.push({ source: this.parts[index]!.file, start: within, length: take });
      position += take;
      left -= take;
    }
    if (left > 0) throw new AirlockError('BUNDLE_TRUNCATED', `${this.name}: ends at byte ${this.size}, ${left} bytes short of byte ${start + length}`);
    if (out.length === 0) out.push({ source: this.parts[Math.min(this.partAt(start), this.parts.length - 1)]!.file, start: 0, length: 0 });
    return out;
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (position >= this.size || length === 0) return { bytesRead: 0 };
    const index = this.partAt(position);
    const within = position - this.starts[index]!;
    const take = Math.min(length, this.parts[index]!.size - within);
    return this.handles[index]!.read(buffer, offset, take, within);
  }

  readSync(buffer: Buffer, offset: number, length: number, position: number): number {
    if (position >= this.size || length === 0) return 0;
    const index = this.partAt(position);
    const within = position - this.starts[index]!;
    return readSync(this.handles[index]!.fd, buffer, offset, Math.min(length, this.parts[index]!.size - within), within);
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((handle) => handle.close()));
  }

  /** Index of the part holding `position` (the last part for the end position). */
  private partAt(position: number): number {
    let low = 0;
    let high = this.parts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= position) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

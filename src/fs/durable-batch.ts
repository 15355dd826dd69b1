/**
 * Many files written so that a crash or power loss at any instant leaves each one old or new,
 * at a cost that does not grow with an fsync per file: every file of a batch goes to its temp
 * file, the batch is flushed at once (syncfs), the temp files are renamed into place, and the
 * renames are flushed at once again. A batch killed half-way is finished by writing it again:
 * each file is whole, old or new, and the writer overwrites leftover temp files.
 * Each file goes to its temp file as it is added, so a batch holds names, not contents; a batch
 * is flushed once it holds BATCH_FILES files or BATCH_BYTES bytes (streamed files not counted),
 * which bounds the work a kill throws away.
 */
import { renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { crashPoint } from '../base/crash.js';
import { ensureDir, tempPathFor, writeTempFile } from './durable.js';
import { onFileSync } from './file-fault.js';
import { syncFilesystems } from './sync-filesystem.js';

export const BATCH_FILES = 2000;
export const BATCH_BYTES = 64 * 1024 * 1024;

export interface DurableWrite {
  path: string;
  /** Contents, or a stream of them opened only when the file is written (large files). */
  data: Buffer | string | (() => AsyncIterable<Buffer>);
  mode: number;
  /** Names the test-only crash point `write:<label>` before this file's rename. */
  crashLabel?: string;
}

export class DurableBatch {
  /** Written to their temp files, waiting for the flush and the rename. */
  private written: Array<Pick<DurableWrite, 'path' | 'crashLabel'>> = [];
  private dirs = new Set<string>();
  private bytes = 0;

  /**
   * Writes the file's temp file now, so the batch holds names, not contents (20,000 buffers
   * kept until a flush outlive the young generation and pile up until a full GC); flushes the
   * batch when it is full. On a failure the batch's temp files are removed.
   */
  async add(write: DurableWrite): Promise<void> {
    const dir = dirname(write.path);
    try {
      if (!this.dirs.has(dir)) {
        await ensureDir(dir);
        this.dirs.add(dir);
      }
      const { data } = write;
      await writeTempFile(write.path, typeof data === 'function' ? data() : data, write.mode, false);
      if (typeof data !== 'function') this.bytes += data.length;
    } catch (error) {
      this.discard();
      throw error;
    }
    this.written.push({ path: write.path, crashLabel: write.crashLabel });
    if (this.written.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) await this.flush();
  }

  /** Makes what was added durable and renames it into place: when it returns, every added file is durably in place. */
  async flush(): Promise<void> {
    const written = this.written;
    const dirs = [...this.dirs];
    this.written = [];
    this.dirs = new Set();
    this.bytes = 0;
    if (written.length === 0) return;
    const temps = written.map(({ path }) => tempPathFor(path));
    try {
      await syncFilesystems(dirs, temps);
    } catch (error) {
      for (const temp of temps) rmSync(temp, { force: true });
      throw error;
    }
    for (const { path, crashLabel } of written) {
      if (crashLabel !== undefined) crashPoint(`write:${crashLabel}`);
      onFileSync(path, () => renameSync(tempPathFor(path), path));
    }
    await syncFilesystems(dirs, dirs);
  }

  private discard(): void {
    for (const { path } of this.written) rmSync(tempPathFor(path), { force: true });
    this.written = [];
    this.dirs = new Set();
    this.bytes = 0;
  }
}

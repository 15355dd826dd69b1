/**
 * Many files written so that a crash or power loss at any instant leaves each one old or new,
 * at a cost that does not grow with an fsync per file: every file of a batch goes to its temp
 * file, the batch is flushed at once (syncfs), the temp files are renamed into place, and the
 * renames are flushed at once again. A batch killed half-way is finished by writing it again:
 * each file is whole, old or new, and the writer overwrites leftover temp files.
 * Memory stays bounded: a batch is written out once it holds BATCH_FILES files or
 * BATCH_BYTES bytes of buffered contents (streamed contents are not held).
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
  private writes: DurableWrite[] = [];
  private bytes = 0;

  /** Queues a write; writes the batch out when it is full. */
  async add(write: DurableWrite): Promise<void> {
    this.writes.push(write);
    if (typeof write.data !== 'function') this.bytes += write.data.length;
    if (this.writes.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) await this.flush();
  }

  /** Writes out what is queued: when it returns, every queued file is durably in place. */
  async flush(): Promise<void> {
    const writes = this.writes;
    this.writes = [];
    this.bytes = 0;
    await writeFilesDurable(writes);
  }
}

async function writeFilesDurable(writes: readonly DurableWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const dirs = [...new Set(writes.map((write) => dirname(write.path)))];
  for (const dir of dirs) await ensureDir(dir);
  const temps: string[] = [];
  try {
    for (const { path, data, mode } of writes) temps.push(await writeTempFile(path, typeof data === 'function' ? data() : data, mode, false));
    await syncFilesystems(dirs, temps);
  } catch (error) {
    for (const temp of temps) rmSync(temp, { force: true });
    throw error;
  }
  for (const { path, crashLabel } of writes) {
    if (crashLabel !== undefined) crashPoint(`write:${crashLabel}`);
    onFileSync(path, () => renameSync(tempPathFor(path), path));
  }
  await syncFilesystems(dirs, dirs);
}

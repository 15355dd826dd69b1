/**
 * Writes that write everything or fail. write(2) may take fewer bytes than it was given,
 * and on a nearly full disk it does (seen on tmpfs: 65,536 of 204,800 bytes) before the
 * next call fails with ENOSPC: a caller that ignores the count loses the rest silently.
 */
import { fstatSync, ftruncateSync, fsyncSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

function noProgress(): NodeJS.ErrnoException {
  // A write that takes nothing, without an error, can only mean there is no room for more.
  return Object.assign(new Error('write took no bytes'), { code: 'ENOSPC' });
}

/** All of `data` at `position` (or at the file's offset when absent). */
export function writeAllSync(fd: number, data: Buffer, position?: number): void {
  for (let done = 0; done < data.length; ) {
    const wrote = writeSync(fd, data, done, data.length - done, position === undefined ? null : position + done);
    if (wrote <= 0) throw noProgress();
    done += wrote;
  }
}

const TEXT_SLICE = 1024 * 1024;

/** All of `text`, encoded a slice at a time: a large one (a receipt, a journal's begin line) is never in memory twice. */
export function writeTextSync(fd: number, text: string): void {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + TEXT_SLICE);
    // A slice must not end between the two halves of a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    writeAllSync(fd, Buffer.from(text.slice(start, end), 'utf8'));
    start = end;
  }
}

export async function writeAll(handle: FileHandle, data: Buffer, position?: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position === undefined ? null : position + done);
    if (bytesWritten <= 0) throw noProgress();
    done += bytesWritten;
  }
}

/**
 * Appends one record durably, or not at all: a record cut short by a full disk is cut off
 * again, so the file keeps only whole records and the next append starts on a clean line.
 * For append-only logs (the journal, the audit log) opened with O_APPEND.
 */
export function appendRecordSync(fd: number, record: Buffer): void {
  const before = fstatSync(fd).size;
  try {
    writeAllSync(fd, record);
    fsyncSync(fd);
  } catch (error) {
    try {
      ftruncateSync(fd, before);
      fsyncSync(fd);
    } catch {
      // The original error says what went wrong; a torn tail is also skipped by the readers.
    }
    throw error;
  }
}

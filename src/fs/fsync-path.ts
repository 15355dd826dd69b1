import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { onFile, onFileSync } from './file-fault.js';

/*
 * fsync through a fresh read-only descriptor: on Linux it flushes a file whichever descriptor
 * wrote it, and for a directory its entries, which is what makes a rename survive a power cut.
 */

export async function fsyncPath(path: string): Promise<void> {
  await onFile(path, async () => {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** For the journal and the lock, which are written synchronously so a crash leaves them ordered. */
export function fsyncPathSync(path: string): void {
  onFileSync(path, () => {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** Between rounds of flushing. */
const FLUSH_PAUSE_MS = 100;

/**
 * fsyncs files over and over while `work` writes them. With GiBs of RAM the kernel keeps
 * every written page dirty until the final fsync, and the disk would only start then;
 * flushing as we go overlaps the disk's work with the copying (measured: bench media and
 * bundle scenarios). The caller still fsyncs once at the end.
 */
export async function flushWhile<T>(paths: readonly string[], work: Promise<T>): Promise<T> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  const flushing = (async () => {
    while (!done) {
      for (const path of paths) if (!done) await fsyncPath(path);
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, FLUSH_PAUSE_MS))]).catch(() => undefined);
    }
  })();
  try {
    return await settled;
  } finally {
    await flushing;
  }
}

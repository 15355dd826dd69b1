import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/*
 * fsync through a fresh read-only descriptor: on Linux it flushes a file whichever descriptor
 * wrote it, and for a directory its entries, which is what makes a rename survive a power cut.
 */

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** For the journal and the lock, which are written synchronously so a crash leaves them ordered. */
export function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

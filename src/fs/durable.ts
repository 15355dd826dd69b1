/**
 * File writes that survive a crash or power loss at any instant: the file at `path` is
 * always either the old or the new content, never a mix. Temp file in the same directory
 * (same filesystem, so rename is atomic), fsync, rename, fsync of the directory.
 * The temp name is fixed per target: only one installer runs per site (the site lock),
 * and a temp file left by a killed run is simply overwritten by the next one.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileFault, onFile, onFileSync } from './file-fault.js';
import { fsyncPathSync } from './fsync-path.js';
import { writeAll, writeAllSync, writeTextSync } from './write-all.js';
import { crashPoint } from '../base/crash.js';

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.airlock-tmp`);
}

/** mkdir -p that also makes each created directory entry durable. */
export async function ensureDir(dir: string, mode = 0o755): Promise<void> {
  const created = await onFile(dir, () => mkdirs(dir, mode));
  if (created === undefined) return;
  // fsync every parent from the first created directory up, so the new entries persist.
  let current = dir;
  for (;;) {
    const parent = dirname(current);
    fsyncPathSync(parent);
    if (current === created || parent === current) break;
    current = parent;
  }
}

/**
 * mkdir -p. Node's recursive mkdir reports ENOENT when a parent could not be made for want of
 * space (ENOSPC): the parents are then made one by one, so the real fault is the one reported.
 */
async function mkdirs(dir: string, mode: number): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true, mode });
  } catch (error) {
    // EEXIST from a recursive mkdir: the path is there, and is not a directory.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const missing: string[] = [];
    for (let at = dir; !(await exists(at)) && dirname(at) !== at; at = dirname(at)) missing.unshift(at);
    for (const path of missing) await onFile(path, () => mkdir(path, { mode }));
    return missing[0];
  }
}

/**
 * `data` may be a stream (large files go through without being held); one that fails (a
 * verifying stream at its end) leaves `path` as it was, and so does a full disk: every byte
 * is written or the write fails (DISK_FULL naming `path`), and only a whole, fsynced file is
 * renamed into place. `crashLabel` names the test-only crash point between the fsynced temp
 * file and the rename (config files).
 */
export async function writeFileDurable(path: string, data: Buffer | string | AsyncIterable<Buffer>, mode: number, crashLabel?: string): Promise<void> {
  await ensureDir(dirname(path));
  const temp = await writeTempFile(path, data, mode, true);
  if (crashLabel !== undefined) crashPoint(`write:${crashLabel}`);
  await onFile(path, () => rename(temp, path));
  fsyncPathSync(dirname(path));
}

/**
 * Writes `data` to the temp file beside `path`, whole or not at all: on any failure the temp
 * file is removed and `path` is as it was. `flush`: fsync it too (a batch flushes its files together).
 */
export async function writeTempFile(path: string, data: Buffer | string | AsyncIterable<Buffer>, mode: number, flush: boolean): Promise<string> {
  const temp = tempPathFor(path);
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    // Small contents go through sync calls: a promise per call costs more than the write (thousands of files).
    onFileSync(path, () => {
      const { fd, exact } = openTempSync(temp, mode);
      try {
        if (Buffer.isBuffer(data)) writeAllSync(fd, data);
        else writeTextSync(fd, data);
        if (!exact) fchmodSync(fd, mode);
        if (flush) fsyncSync(fd);
      } catch (error) {
        closeSync(fd);
        rmSync(temp, { force: true });
        throw error;
      }
      closeSync(fd);
    });
    return temp;
  }
  // Faults of the sink name `path`; an error of the source stream (its own file, its own check) passes as it is.
  const sink = <T>(work: Promise<T>): Promise<T> => work.catch((error: unknown) => Promise.reject(fileFault(error, path)));
  const handle = await sink(open(temp, 'w', mode));
  try {
    for await (const chunk of data) await sink(writeAll(handle, chunk));
    await sink(handle.chmod(mode));
    if (flush) await sink(handle.sync());
    await sink(handle.close());
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  return temp;
}

/** Read once: process.umask() sets and resets the mask, two syscalls, and airlock never changes it. */
let processUmask: number | undefined;
const umask = () => (processUmask ??= process.umask());

/**
 * Opens the temp file for writing. open()'s mode is filtered by the umask, and an existing file
 * (a killed run's) keeps its own: `exact` says the file already has `mode`, so the common new
 * file under the usual umask needs no fchmod (one syscall fewer per file, thousands in a batch).
 */
function openTempSync(temp: string, mode: number): { fd: number; exact: boolean } {
  try {
    return { fd: openSync(temp, 'wx', mode), exact: (mode & ~0o777) === 0 && (mode & ~umask()) === mode };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { fd: openSync(temp, 'w', mode), exact: false };
  }
}

export async function chmodDurable(path: string, mode: number): Promise<void> {
  await onFile(path, () => chmod(path, mode));
  fsyncPathSync(path);
}

export async function removeDurable(path: string): Promise<void> {
  await onFile(path, async () => {
    await rm(tempPathFor(path), { force: true });
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    fsyncPathSync(dirname(path));
  });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

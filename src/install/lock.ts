/**
 * One installer at a time per site: `<stateDir>/install.lock`, created exclusively, holding
 * who holds it. A lock whose process is gone (same host, pid dead, or the pid now belongs to
 * a process started later) is stale and taken over; a lock from another host cannot be judged
 * from here and is never taken over.
 */
import { readFileSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { fileFault } from '../fs/file-fault.js';
import { currentUser } from './who.js';

const lockSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  user: z.string(),
  since: z.string(),
  command: z.string(),
  /** Start time of the process (clock ticks since boot, /proc/<pid>/stat), against pid reuse. */
  started: z.string().optional(),
});
type LockInfo = z.infer<typeof lockSchema>;

export interface SiteLock {
  readonly file: string;
  /** Set when a stale lock was taken over (for a warning). */
  readonly tookOver?: LockInfo;
  release(): Promise<void>;
}

const LOCK_FILE = 'install.lock';
const TORN_LOCK_AGE_MS = 5000;

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counted after the ')' that closes the command name.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = processStart(info.pid);
  return info.started === undefined || started === undefined || started === info.started;
}

async function readLock(file: string): Promise<LockInfo | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = lockSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // torn: a run killed between creating the lock and writing it
  }
}

function describe(info: LockInfo): string {
  return `pid ${info.pid} on ${info.host} (user ${info.user}, since ${info.since}, ${info.command})`;
}

export async function acquireSiteLock(stateDir: string, command: string): Promise<SiteLock> {
  const file = join(stateDir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    user: currentUser(),
    since: new Date().toISOString(),
    command,
    started: processStart(process.pid),
  };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        // Not fsynced: a lock only has to hold while its process lives, and after a power cut
        // every holder is gone anyway (a torn or lost lock file is then stale, or absent).
        await handle.writeFile(`${JSON.stringify(info)}\n`);
      } catch (error) {
        // A lock that could not be written whole (a full disk) is not left to look like a torn one.
        await handle.close();
        await rm(file, { force: true });
        throw error;
      }
      await handle.close();
      return { file, tookOver, release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileFault(error, file);
    }
    const holder = await readLock(file);
    if (holder !== undefined && (holder.host !== info.host || alive(holder))) {
      throw new AirlockError('INSTALL_LOCKED', `${file}: another airlock run holds this site: ${describe(holder)}`);
    }
    // An unreadable lock is either being written this instant, or was torn by a kill between create and write.
    if (holder === undefined && Date.now() - (await stat(file).catch(() => ({ mtimeMs: 0 }))).mtimeMs < TORN_LOCK_AGE_MS) {
      throw new AirlockError('INSTALL_LOCKED', `${file}: another airlock run is taking the site lock right now`);
    }
    tookOver = holder;
    // Move the stale lock aside and check what was moved: if another run took the lock over
    // between our read and the rename, we moved its live lock and must put it back.
    const aside = `${file}.stale-${process.pid}`;
    try {
      await rename(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const moved = await readLock(aside);
    if (moved !== undefined && (moved.pid !== holder?.pid || moved.since !== holder.since)) {
      await rename(aside, file);
      throw new AirlockError('INSTALL_LOCKED', `${file}: another airlock run holds this site: ${describe(moved)}`);
    }
    await rm(aside, { force: true });
  }
  throw new AirlockError('INSTALL_LOCKED', `${file}: could not take the site lock (another run keeps taking it)`);
}

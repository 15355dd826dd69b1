/**
 * Small real filesystems for fault tests: a tmpfs of a given size (or inode count) mounted on a
 * fresh directory (the tests run as root), filled up to a chosen amount of free space, and
 * unmounted afterwards.
 */
import { execa } from 'execa';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Bytes free for files now. */
  free(): Promise<number>;
  /** Writes a filler file so that about `bytes` stay free; returns its path (remove it to free the space). */
  fillTo(bytes: number): Promise<string>;
  /** Remounts read-only (true) or read-write (false). */
  readOnly(on: boolean): Promise<void>;
  unmount(): Promise<void>;
}

const mounted: Tmpfs[] = [];

/** Mounts a tmpfs on `dir` (created if missing) or on a new temporary directory. */
export async function mountTmpfs(options: { size: string; inodes?: number; dir?: string }): Promise<Tmpfs> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'airlock-tmpfs-')));
  await execa('mkdir', ['-p', dir]);
  const flags = [`size=${options.size}`, ...(options.inodes === undefined ? [] : [`nr_inodes=${options.inodes}`])];
  await execa('mount', ['-t', 'tmpfs', '-o', flags.join(','), 'tmpfs', dir]);
  const fs: Tmpfs = {
    dir,
    free: async () => {
      const info = await statfs(dir);
      return info.bavail * info.bsize;
    },
    fillTo: async (bytes) => {
      const filler = join(dir, `.filler-${mounted.length}-${Date.now()}`);
      const size = Math.max(0, (await fs.free()) - bytes);
      await writeFile(filler, Buffer.alloc(size));
      return filler;
    },
    readOnly: async (on) => {
      await execa('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir]);
    },
    unmount: async () => {
      const at = mounted.indexOf(fs);
      if (at < 0) return;
      mounted.splice(at, 1);
      await execa('umount', [dir]).catch(() => execa('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
  mounted.push(fs);
  return fs;
}

/** Unmounts every tmpfs this test file mounted (for afterAll). */
export async function unmountAll(): Promise<void> {
  for (const fs of [...mounted].reverse()) await fs.unmount();
}

/**
 * The write primitives on a real full disk (a 64 KiB tmpfs): write(2) takes 64 KiB of a larger
 * buffer and says so; the primitives either write everything or throw, and an append that does
 * not fit leaves the log as it was.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import { writeFileDurable } from '../../src/fs/durable.js';
import { appendRecordSync, writeAll, writeAllSync } from '../../src/fs/write-all.js';
import { mountTmpfs, unmountAll, type Tmpfs } from '../support/tmpfs.js';

let disk: Tmpfs;
beforeAll(async () => {
  disk = await mountTmpfs({ size: '64k' });
});
afterAll(unmountAll);
beforeEach(async () => {
  for (const name of await readdir(disk.dir)) await rm(join(disk.dir, name), { force: true });
});

describe('on a 64 KiB tmpfs', () => {
  it('write(2) itself takes part of a larger buffer without an error (what the primitives guard against)', () => {
    const fd = openSync(join(disk.dir, 'raw'), 'w');
    try {
      const wrote = writeSync(fd, Buffer.alloc(200 * 1024));
      expect(wrote).toBeGreaterThan(0);
      expect(wrote).toBeLessThan(200 * 1024);
    } finally {
      closeSync(fd);
    }
  });

  it('writeAll and writeAllSync write every byte of what fits, and throw ENOSPC for what does not', async () => {
    for (const size of [1, 4096, 30_000, 60 * 1024]) {
      const data = randomBytes(size);
      const file = join(disk.dir, `fits-${size}`);
      const handle = await open(file, 'w');
      await writeAll(handle, data);
      await handle.close();
      expect((await readFile(file)).equals(data)).toBe(true);
      await rm(file);
    }
    const handle = await open(join(disk.dir, 'async'), 'w');
    await expect(writeAll(handle, Buffer.alloc(200 * 1024))).rejects.toMatchObject({ code: 'ENOSPC' });
    await handle.close();
    await rm(join(disk.dir, 'async'));
    const fd = openSync(join(disk.dir, 'sync'), 'w');
    expect(() => writeAllSync(fd, Buffer.alloc(200 * 1024))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    closeSync(fd);
  });

  it('appendRecordSync keeps only whole records when one does not fit', () => {
    const file = join(disk.dir, 'log.jsonl');
    const fd = openSync(file, 'a');
    try {
      appendRecordSync(fd, Buffer.from('{"n":1}\n'));
      expect(() => appendRecordSync(fd, Buffer.from(`${'x'.repeat(200 * 1024)}\n`))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
      appendRecordSync(fd, Buffer.from('{"n":2}\n'));
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('writeFileDurable of a stream that does not fit fails with DISK_FULL and leaves the old file and no temp file', async () => {
    const file = join(disk.dir, 'config.yaml');
    await writeFileDurable(file, 'old: true\n', 0o644);
    async function* chunks() {
      for (let i = 0; i < 8; i++) yield randomBytes(32 * 1024);
    }
    const error = await writeFileDurable(file, chunks(), 0o644).catch((e: unknown) => e);
    expect(isAirlockError(error, 'DISK_FULL'), String(error)).toBe(true);
    expect((error as Error).message).toBe(`no space left on the device writing ${file}: the filesystem holding ${disk.dir} is full`);
    expect(await readFile(file, 'utf8')).toBe('old: true\n');
    expect((await readdir(disk.dir)).filter((name) => name.includes('airlock-tmp'))).toEqual([]);
  });
});

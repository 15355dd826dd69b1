/**
 * The hash pool's two ways with small jobs: neighbours in one file are read together and each
 * hashed from that one read, and a run that cannot be read whole (the file ends inside it)
 * still gives every job before the end its digest and names the one that was cut short.
 * Mixed with large jobs, the small ones hashed here and the large ones in the workers come
 * back in the order of the jobs.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyAndHashBatch } from '../../src/hash/copy-and-hash.js';
import { hashRanges } from '../../src/hash/hash-pool.js';
import { sha256Hex } from '../../src/hash/digest.js';

async function fileOf(data: Buffer): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'airlock-hash-')), 'data');
  await writeFile(file, data);
  return file;
}


describe('copyAndHashBatch', () => {
  it('hashes neighbouring ranges of one file from one read, each to its own digest', async () => {
    const data = crypto.randomBytes(200_000);
    const file = await fileOf(data);
    const jobs = Array.from({ length: 300 }, (_, index) => ({ source: file, start: index * 600, length: 100 + (index % 400) }));
    const results = copyAndHashBatch(jobs, fs, crypto, Buffer.alloc(256 * 1024));
    expect(results).toEqual(jobs.map((job) => ({ ok: true, hex: sha256Hex(data.subarray(job.start, job.start + job.length)) })));
  });

  it('still hashes the jobs before the end of a file that ends inside a run, and names the one cut short', async () => {
    const data = crypto.randomBytes(5000);
    const file = await fileOf(data);
    const jobs = [0, 1000, 2000, 4500].map((start) => ({ source: file, start, length: 800 }));
    const results = copyAndHashBatch(jobs, fs, crypto, Buffer.alloc(256 * 1024));
    expect(results.slice(0, 3)).toEqual(jobs.slice(0, 3).map((job) => ({ ok: true, hex: sha256Hex(data.subarray(job.start, job.start + job.length)) })));
    expect(results[3]).toMatchObject({ ok: false, code: 'SHORT_READ', path: file });
  });
});

describe('hashRanges', () => {
  it('gives small jobs (this thread) and large ones (the workers) back in the order of the jobs', async () => {
    const data = crypto.randomBytes(40 * 1024 * 1024);
    const file = await fileOf(data);
    const jobs = [
      { source: file, start: 0, length: 1000 },
      { source: file, start: 1024, length: 20 * 1024 * 1024 },
      { source: file, start: 20 * 1024 * 1024 + 2048, length: 3000 },
      { source: file, start: 21 * 1024 * 1024, length: 18 * 1024 * 1024 },
      { source: file, start: 40 * 1024 * 1024 - 10, length: 10 },
    ];
    expect(await hashRanges(jobs)).toEqual(jobs.map((job) => sha256Hex(data.subarray(job.start, job.start + job.length))));
    // One large job among small ones: a worker of its own.
    const one = [jobs[0]!, jobs[1]!, jobs[2]!];
    expect(await hashRanges(one)).toEqual(one.map((job) => sha256Hex(data.subarray(job.start, job.start + job.length))));
  });
});

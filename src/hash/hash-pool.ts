/**
 * Runs copy-and-hash jobs on every core. node:crypto hashes on the calling thread, so one
 * thread tops out near 1 GiB/s; with several files to hash, worker threads add the
 * other cores. Workers are started from the source text of copyAndHashBatch (eval), which keeps
 * the CLI a single file that also runs as the installer on the isolated side.
 */
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { fileFault } from '../fs/file-fault.js';
import { COPY_CHUNK_BYTES, copyAndHashBatch, type CopyAndHashJob, type CopyAndHashResult } from './copy-and-hash.js';

export type { CopyAndHashJob } from './copy-and-hash.js';

/** Below this much work, starting a worker costs more than it saves. */
const INLINE_BYTES = 16 * 1024 * 1024;
/** Small jobs travel to a worker together: one message and one open per file for many entries. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_JOBS = 256;
/** A job up to this size is hashed on the calling thread, never sent to a worker. */
const SMALL_JOB_BYTES = 64 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const copyAndHashBatch = ${copyAndHashBatch.toString()};
const buffer = Buffer.allocUnsafe(${COPY_CHUNK_BYTES});
parentPort.on('message', (jobs) => parentPort.postMessage(copyAndHashBatch(jobs, fs, crypto, buffer)));
`;

export interface HashPoolOptions {
  /** Called with the byte count of each finished job. */
  onProgress?: (bytes: number) => void;
}

/**
 * Hex SHA-256 of each job's range, in the order of the jobs; throws on the first failed job.
 * Small jobs are hashed on this thread (read together where they are neighbours in one file,
 * see copyAndHashBatch) while the workers take the large ones: a worker's message round trip
 * costs more than hashing a small file, and this thread would otherwise only wait.
 */
export async function hashRanges(jobs: readonly CopyAndHashJob[], options: HashPoolOptions = {}): Promise<string[]> {
  const large = jobs.flatMap((job, index) => (job.length > SMALL_JOB_BYTES ? [index] : []));
  const largeBytes = large.reduce((sum, index) => sum + jobs[index]!.length, 0);
  const cores = availableParallelism();
  // One large job alone is hashed here; beside small ones, a worker takes it while this thread does them.
  const pool = cores > 1 && largeBytes >= INLINE_BYTES && (large.length > 1 || large.length < jobs.length);
  const threads = Math.min(cores, large.length);
  const here = jobs.flatMap((job, index) => (pool && job.length > SMALL_JOB_BYTES ? [] : [index]));

  const results = new Array<string>(jobs.length);
  const pooled = pool
    ? hashInWorkers(large.map((index) => jobs[index]!), threads, options).then((hexes) => hexes.forEach((hex, position) => (results[large[position]!] = hex)))
    : Promise.resolve();
  // One buffer for every batch: one each was 200,000 / 256 buffers of 256 KiB left to the collector at scale.
  const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  try {
    for (let from = 0; from < here.length; from += BATCH_JOBS) {
      // Between batches the workers' answers are taken and the next jobs sent, and a progress bar redraws.
      if (from > 0 || pool) await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = here.slice(from, from + BATCH_JOBS);
      hashInline(batch.map((index) => jobs[index]!), buffer, options).forEach((hex, position) => (results[batch[position]!] = hex));
    }
  } catch (error) {
    await pooled.catch(() => undefined);
    throw error;
  }
  await pooled;
  return results;
}

function hashInline(jobs: readonly CopyAndHashJob[], buffer: Buffer, options: HashPoolOptions): string[] {
  const results = copyAndHashBatch(jobs, fs, crypto, buffer);
  return jobs.map((job, index) => {
    const hex = unwrap(job, results[index]!);
    options.onProgress?.(job.length);
    return hex;
  });
}

/** Job indexes in batches, largest first, so one big file does not start last and leave the other cores idle. */
function batches(jobs: readonly CopyAndHashJob[]): number[][] {
  const order = jobs.map((_, index) => index).sort((a, b) => jobs[b]!.length - jobs[a]!.length);
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of order) {
    const length = jobs[index]!.length;
    if (current.length > 0 && (bytes + length > BATCH_BYTES || current.length >= BATCH_JOBS)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function hashInWorkers(jobs: readonly CopyAndHashJob[], threads: number, options: HashPoolOptions): Promise<string[]> {
  const queue = batches(jobs);
  const results = new Array<string>(jobs.length);
  let next = 0;
  let failure: unknown;
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    await Promise.all(
      workers.map(async (worker) => {
        while (failure === undefined && next < queue.length) {
          const batch = queue[next++]!;
          const answers = await runOn(worker, batch.map((index) => jobs[index]!));
          try {
            batch.forEach((index, position) => {
              results[index] = unwrap(jobs[index]!, answers[position]!);
              options.onProgress?.(jobs[index]!.length);
            });
          } catch (error) {
            failure ??= error;
          }
        }
      }),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  if (failure !== undefined) throw failure;
  return results;
}

function runOn(worker: Worker, jobs: CopyAndHashJob[]): Promise<CopyAndHashResult[]> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once('error', onError);
    worker.once('message', (results: CopyAndHashResult[]) => {
      worker.off('error', onError);
      resolve(results);
    });
    worker.postMessage(jobs);
  });
}

/**
 * Reads a small file (or a range of one) into `target`, exactly its size, and returns its
 * hex SHA-256, on this thread: the build packs small files straight into the run of tar
 * headers around them, one open and one read each, with no job sent anywhere.
 */
export function readAndHash(source: string, start: number, target: Buffer): string {
  const job: CopyAndHashJob = { source, start, length: target.length };
  return unwrap(job, readWhole(source, start, target));
}

function readWhole(source: string, start: number, target: Buffer): CopyAndHashResult {
  try {
    const handle = fs.openSync(source, 'r');
    try {
      for (let done = 0; done < target.length; ) {
        const got = fs.readSync(handle, target, done, target.length - done, start + done);
        if (got === 0) return { ok: false, code: 'SHORT_READ', message: `${source}: ended after ${done} of ${target.length} bytes`, path: source };
        done += got;
      }
    } finally {
      fs.closeSync(handle);
    }
    return { ok: true, hex: crypto.createHash('sha256').update(target).digest('hex') };
  } catch (error) {
    return { ok: false, code: (error as { code?: string }).code ?? 'EIO', message: `${source}: ${(error as Error).message}`, path: source };
  }
}

function unwrap(job: CopyAndHashJob, result: CopyAndHashResult): string {
  if (result.ok) return result.hex;
  if (result.code === 'ENOENT') throw new AirlockError('INPUT_NOT_FOUND', result.message);
  if (result.code === 'SHORT_READ') throw new AirlockError('INPUT_CHANGED', `${result.message} (did it change during the run?)`);
  const fault = fileFault(Object.assign(new Error(result.message), { code: result.code }), result.path);
  if (isAirlockError(fault)) throw fault;
  throw new AirlockError('INTERNAL', `${job.source}: ${result.code}: ${result.message}`);
}

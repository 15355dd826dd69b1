/**
 * The inner loop of build and verify: read a byte range of one file, SHA-256 it, and
 * optionally write the same bytes into another file at a given offset. One reused
 * buffer, positional reads and writes: no allocation per chunk, no stream overhead.
 *
 * It must stay self-contained (no imports, no outer references): the hash pool runs
 * this very function's source text inside worker threads, so that both cores hash.
 */
export interface CopyAndHashJob {
  source: string;
  start: number;
  length: number;
  /**
   * Read these ranges in order instead of (source, start, length): one file split across
   * volumes is still one digest. `length` is then their total, `source` the first one's.
   */
  segments?: ReadonlyArray<{ source: string; start: number; length: number }>;
  /** Write the bytes read here too (build); absent for a pure hash (verify). */
  copyTo?: { file: string; position: number };
}

export type CopyAndHashResult = { ok: true; hex: string } | { ok: false; code: string; message: string };

export const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

export function copyAndHash(
  job: CopyAndHashJob,
  fs: typeof import('node:fs'),
  crypto: typeof import('node:crypto'),
  buffer: Buffer,
): CopyAndHashResult {
  let input: number | undefined;
  let output: number | undefined;
  try {
    if (job.copyTo) output = fs.openSync(job.copyTo.file, 'r+');
    const hash = crypto.createHash('sha256');
    let done = 0;
    for (const part of job.segments ?? [job]) {
      input = fs.openSync(part.source, 'r');
      let partDone = 0;
      while (partDone < part.length) {
        const want = Math.min(buffer.length, part.length - partDone);
        const got = fs.readSync(input, buffer, 0, want, part.start + partDone);
        if (got === 0) {
          return { ok: false, code: 'SHORT_READ', message: `${part.source}: ended after ${partDone} of ${part.length} bytes` };
        }
        const chunk = buffer.subarray(0, got);
        hash.update(chunk);
        if (output !== undefined && job.copyTo) {
          let written = 0;
          while (written < got) {
            written += fs.writeSync(output, chunk, written, got - written, job.copyTo.position + done + written);
          }
        }
        partDone += got;
        done += got;
      }
      fs.closeSync(input);
      input = undefined;
    }
    return { ok: true, hex: hash.digest('hex') };
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'EIO';
    return { ok: false, code, message: `${job.source}: ${(error as Error).message}` };
  } finally {
    if (input !== undefined) fs.closeSync(input);
    if (output !== undefined) fs.closeSync(output);
  }
}

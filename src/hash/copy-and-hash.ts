/**
 * The inner loop of build and verify: read byte ranges of files, SHA-256 each, and
 * optionally write the same bytes into another file at a given offset. One reused
 * buffer, positional reads and writes, and each file opened once per batch: no
 * allocation per chunk, no stream overhead, no per-entry open for bundles of small files.
 *
 * It must stay self-contained (no imports, no outer references): the hash pool runs
 * this very function's source text inside worker threads, so that every core hashes.
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

/** A failure names the file whose read or write failed (`path`), so the caller can say which. */
export type CopyAndHashResult = { ok: true; hex: string } | { ok: false; code: string; message: string; path: string };

/** Small enough to stay in a core's cache between the read and the hash. */
export const COPY_CHUNK_BYTES = 256 * 1024;

export function copyAndHashBatch(
  jobs: readonly CopyAndHashJob[],
  fs: typeof import('node:fs'),
  crypto: typeof import('node:crypto'),
  buffer: Buffer,
): CopyAndHashResult[] {
  const open = new Map<string, number>();
  const fd = (file: string, flags: string): number => {
    const key = `${flags}\0${file}`;
    let handle = open.get(key);
    if (handle === undefined) {
      handle = fs.openSync(file, flags);
      open.set(key, handle);
    }
    return handle;
  };
  const one = (job: CopyAndHashJob): CopyAndHashResult => {
    // The file of the call under way: a failure names it, the source or the copy.
    let at = job.copyTo ? job.copyTo.file : job.source;
    try {
      const output = job.copyTo ? fd(job.copyTo.file, 'r+') : undefined;
      const hash = crypto.createHash('sha256');
      let done = 0;
      for (const part of job.segments ?? [job]) {
        at = part.source;
        const input = fd(part.source, 'r');
        let partDone = 0;
        while (partDone < part.length) {
          at = part.source;
          const got = fs.readSync(input, buffer, 0, Math.min(buffer.length, part.length - partDone), part.start + partDone);
          if (got === 0) return { ok: false, code: 'SHORT_READ', message: `${part.source}: ended after ${partDone} of ${part.length} bytes`, path: part.source };
          const chunk = buffer.subarray(0, got);
          hash.update(chunk);
          if (output !== undefined && job.copyTo) {
            at = job.copyTo.file;
            // A short write (a nearly full disk) is continued; one that takes nothing means there is no room.
            for (let written = 0; written < got; ) {
              const wrote = fs.writeSync(output, chunk, written, got - written, job.copyTo.position + done + written);
              if (wrote <= 0) return { ok: false, code: 'ENOSPC', message: `${at}: write took no bytes`, path: at };
              written += wrote;
            }
          }
          partDone += got;
          done += got;
        }
      }
      return { ok: true, hex: hash.digest('hex') };
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'EIO';
      return { ok: false, code, message: `${at}: ${(error as Error).message}`, path: at };
    }
  };
  /**
   * Jobs that are small pure hashes of one file, one after the other (a bundle's small entries
   * in bundle order, only a header and padding between them), are read with one call and
   * hashed from the buffer: one read for a few hundred files. A run that cannot be read whole
   * goes one job at a time instead, which names the failure precisely.
   */
  const GAP_BYTES = 64 * 1024;
  const joinable = (job: CopyAndHashJob) => job.copyTo === undefined && job.segments === undefined && job.length <= buffer.length;
  const runAfter = (first: number): number => {
    let end = first + 1;
    if (!joinable(jobs[first]!)) return end;
    const { source, start } = jobs[first]!;
    let runEnd = start + jobs[first]!.length;
    for (; end < jobs.length; end++) {
      const next = jobs[end]!;
      const nextEnd = next.start + next.length;
      if (!joinable(next) || next.source !== source || next.start < runEnd || next.start - runEnd > GAP_BYTES || nextEnd - start > buffer.length) break;
      runEnd = nextEnd;
    }
    return end;
  };
  const readRun = (source: string, start: number, span: number): boolean => {
    try {
      const input = fd(source, 'r');
      for (let got = 0; got < span; ) {
        const read = fs.readSync(input, buffer, got, span - got, start + got);
        if (read === 0) return false;
        got += read;
      }
      return true;
    } catch {
      return false;
    }
  };
  try {
    const results: CopyAndHashResult[] = [];
    for (let index = 0; index < jobs.length; ) {
      const end = runAfter(index);
      const run = jobs.slice(index, end);
      const first = run[0]!;
      const last = run[run.length - 1]!;
      if (run.length > 1 && readRun(first.source, first.start, last.start + last.length - first.start)) {
        for (const job of run) {
          const from = job.start - first.start;
          results.push({ ok: true, hex: crypto.createHash('sha256').update(buffer.subarray(from, from + job.length)).digest('hex') });
        }
      } else {
        for (const job of run) results.push(one(job));
      }
      index = end;
    }
    return results;
  } finally {
    for (const handle of open.values()) fs.closeSync(handle);
  }
}

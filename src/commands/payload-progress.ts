/** The bar of a pass over a bundle's payload (build packs it, verify hashes it): files when there are many, else bytes. */
import { byteProgress, itemProgress, type ByteProgress } from '../ui/progress.js';
import type { Output } from '../ui/output.js';

/** From this many payload files on, the bar counts files instead of bytes, which small files hardly move. */
const MANY_FILES = 1000;

export interface PayloadProgress {
  /** Running totals, as the writer and the verifier report them. */
  at(doneBytes: number, totalBytes: number, doneFiles: number, totalFiles: number): void;
  stop(): void;
}

export function payloadProgress(output: Output, labels: { files: string; bytes: string }): PayloadProgress {
  let progress: ByteProgress | undefined;
  let shown = 0;
  return {
    at(doneBytes, totalBytes, doneFiles, totalFiles) {
      const byFiles = totalFiles >= MANY_FILES;
      progress ??= byFiles ? itemProgress(output, labels.files, totalFiles) : byteProgress(output, labels.bytes, totalBytes);
      const done = byFiles ? doneFiles : doneBytes;
      progress.add(done - shown);
      shown = done;
    },
    stop: () => progress?.stop(),
  };
}

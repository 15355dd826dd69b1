/**
 * Progress bars for long steps: bytes (image pushes and pulls, writing a bundle) or items (files
 * packed, checked or written), on stderr and only when stderr is a terminal (and not under
 * --json); otherwise silent, so logs and pipes stay clean.
 */
import cliProgress from 'cli-progress';
import { humanBytes } from './format.js';
import type { Output } from './output.js';

export interface ByteProgress {
  add(bytes: number): void;
  stop(): void;
}

/** Below this a transfer is over before a bar helps. */
const SHOW_FROM_BYTES = 8 * 1024 * 1024;

/** Below this many items a step is over before a bar helps (the "more than a few hundred files"). */
const SHOW_FROM_ITEMS = 500;

/** Counts items (files) done out of `totalItems`; `noun` names them in the bar ("files"). */
export function itemProgress(output: Output, label: string, totalItems: number, noun = 'files'): ByteProgress {
  if (output.json || !process.stderr.isTTY || totalItems < SHOW_FROM_ITEMS) return { add: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% {value}/{total} ${noun} {eta_formatted}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalItems, 0);
  let done = 0;
  return {
    add: (items) => {
      done = Math.min(totalItems, done + items);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}

export function byteProgress(output: Output, label: string, totalBytes: number): ByteProgress {
  if (output.json || !process.stderr.isTTY || totalBytes < SHOW_FROM_BYTES) return { add: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`,
      formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? humanBytes(value) : String(value)),
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0);
  let done = 0;
  return {
    // A retried transfer counts its bytes again; the bar never claims more than the total.
    add: (bytes) => {
      done = Math.min(totalBytes, done + bytes);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}

/**
 * A byte progress bar for long image transfers, on stderr and only when stderr is a terminal
 * (and not under --json); otherwise silent, so logs and pipes stay clean.
 */
import cliProgress from 'cli-progress';
import type { Output } from '../ui/output.js';

export interface ByteProgress {
  add(bytes: number): void;
  stop(): void;
}

/** Below this a transfer is over before a bar helps. */
const SHOW_FROM_BYTES = 8 * 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function byteProgress(output: Output, label: string, totalBytes: number): ByteProgress {
  if (output.json || !process.stderr.isTTY || totalBytes < SHOW_FROM_BYTES) return { add: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`,
      formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? formatBytes(value) : String(value)),
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

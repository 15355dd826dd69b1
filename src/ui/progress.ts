/**
 * Progress bars for long steps: bytes (image pushes and pulls, writing a bundle or media) or items
 * (files packed, checked or written), on stderr and only when stderr is a terminal (and not under
 * --json); otherwise silent, so logs and pipes stay clean. A bar shows the rate and the time left
 * from the average since the step began (steady, where a rate over the last few updates jumps),
 * appears only once a step has run for a moment (a quick step does not flash one), redraws at most
 * ten times a second, and leaves one line saying how long the step took.
 */
import cliProgress from 'cli-progress';
import { humanBytes } from './format.js';
import type { Output } from './output.js';

export interface ByteProgress {
  add(amount: number): void;
  stop(): void;
}

/** Below this a transfer is over before a bar helps. */
const SHOW_FROM_BYTES = 8 * 1024 * 1024;
/** Below this many items a step is over before a bar helps (the "more than a few hundred files"). */
const SHOW_FROM_ITEMS = 500;
/** A step that ends sooner shows no bar at all. */
const SHOW_AFTER_MS = 300;
/** The time left is shown once this share of the step is done. */
const ETA_FROM = 0.02;

interface Units {
  /** `n` as the bar counts it ("1.2 GiB", "8400"). */
  count(n: number): string;
  /** `n` with its unit, for the total and the summary ("1.2 GiB", "8400 files"). */
  amount(n: number): string;
  /** A rate per second in the unit ("310 MiB/s", "5200 files/s"). */
  rate(perSecond: number): string;
}

const SILENT: ByteProgress = { add: () => undefined, stop: () => undefined };

function seconds(ms: number): string {
  const total = Math.round(ms / 1000);
  if (total < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${total} s`;
  return total < 3600 ? `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s` : `${Math.floor(total / 3600)}h${String(Math.floor(total / 60) % 60).padStart(2, '0')}m`;
}

/** The one bar both kinds share; `units` is all that differs. */
function bar(label: string, total: number, units: Units): ByteProgress {
  const started = Date.now();
  let done = 0;
  let shown: cliProgress.SingleBar | undefined;
  let stopped = false;
  const payload = () => {
    const elapsed = Math.max(1, Date.now() - started);
    const perSecond = (done * 1000) / elapsed;
    return {
      done: `${units.count(done)}/${units.amount(total)}`,
      rate: done === 0 ? '' : units.rate(perSecond),
      // Until a little is done the average says nothing of the time left.
      left: done < total * ETA_FROM || done >= total ? '' : `${seconds(((total - done) / perSecond) * 1000)} left`,
    };
  };
  return {
    add(amount) {
      // A retried transfer counts its bytes again; the bar never claims more than the total.
      done = Math.min(total, done + amount);
      if (stopped) return;
      if (shown === undefined && Date.now() - started >= SHOW_AFTER_MS) {
        shown = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${label} [{bar}] {percentage}%  {done}  {rate}  {left}`,
            barsize: 30,
            fps: 10,
            // The cursor stays visible: a step killed mid-way must not leave the terminal without one.
            hideCursor: false,
            clearOnComplete: true,
            linewrap: false,
          },
          cliProgress.Presets.shades_classic,
        );
        shown.start(total, done, payload());
      } else shown?.update(done, payload());
    },
    stop() {
      stopped = true;
      if (shown === undefined) return;
      shown.stop();
      shown = undefined;
      const elapsed = Date.now() - started;
      process.stderr.write(`${label}: ${units.amount(done)} in ${seconds(elapsed)} (${units.rate((done * 1000) / Math.max(1, elapsed))})\n`);
    },
  };
}

function wanted(output: Output, total: number, from: number): boolean {
  return !output.json && process.stderr.isTTY === true && total >= from;
}

/** Counts items (files) done out of `totalItems`; `noun` names them in the bar ("files"). */
export function itemProgress(output: Output, label: string, totalItems: number, noun = 'files'): ByteProgress {
  if (!wanted(output, totalItems, SHOW_FROM_ITEMS)) return SILENT;
  return bar(label, totalItems, { count: String, amount: (n) => `${n} ${noun}`, rate: (perSecond) => `${Math.round(perSecond)} ${noun}/s` });
}

export function byteProgress(output: Output, label: string, totalBytes: number): ByteProgress {
  if (!wanted(output, totalBytes, SHOW_FROM_BYTES)) return SILENT;
  return bar(label, totalBytes, { count: humanBytes, amount: humanBytes, rate: (perSecond) => `${humanBytes(Math.round(perSecond))}/s` });
}

/** A byte bar fed with running totals (`done` of `total` so far), made on the first report: the step's work begins there. */
export function runningByteProgress(output: Output, label: string): { at(done: number, total: number): void; stop(): void } {
  let progress: ByteProgress | undefined;
  let reported = 0;
  return {
    at(done, total) {
      progress ??= byteProgress(output, label, total);
      progress.add(done - reported);
      reported = done;
    },
    stop: () => progress?.stop(),
  };
}

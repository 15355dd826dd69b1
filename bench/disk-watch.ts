/**
 * Disk use of a directory tree while a command runs: allocated bytes (st_blocks, what the
 * disk gives up, each inode once), sampled every few tens of milliseconds from the bench
 * process. A file big enough to matter takes longer than that to write, so it is seen;
 * what the walk cannot see is a file unlinked while still open (SQLite's temp files).
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Allocated bytes under each top-level entry of root (missing root: none). Entries vanishing mid-walk are skipped. */
export function allocatedByEntry(root: string): Map<string, number> {
  const seen = new Set<string>();
  const walk = (path: string): number => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return 0;
    }
    const inode = `${stat.dev}:${stat.ino}`;
    if (seen.has(inode)) return 0;
    seen.add(inode);
    let bytes = stat.blocks * 512;
    if (stat.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(path);
      } catch {
        // Removed while walking.
      }
      for (const name of names) bytes += walk(join(path, name));
    }
    return bytes;
  };
  const sizes = new Map<string, number>();
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return sizes;
  }
  for (const name of names) sizes.set(name, walk(join(root, name)));
  return sizes;
}

export interface DiskPeak {
  /** Largest sampled total under the root. */
  total: number;
  /** Largest sampled total of the `outside` entries (sampled together with the total). */
  outside: number;
  samples: number;
}

/**
 * Samples a root directory during each run of a contender (pass it as its `monitor`): per run,
 * the peak of everything under the root and the peak of a chosen subset of its top-level entries.
 */
export class DiskWatch {
  readonly runs: DiskPeak[] = [];
  private timer: NodeJS.Timeout | undefined;
  private current: DiskPeak = { total: 0, outside: 0, samples: 0 };

  constructor(
    private readonly root: string,
    private readonly outside: readonly string[],
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.current = { total: 0, outside: 0, samples: 0 };
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
    this.runs.push(this.current);
  }

  /** The largest peaks over all runs. */
  peak(): DiskPeak {
    return {
      total: Math.max(0, ...this.runs.map((run) => run.total)),
      outside: Math.max(0, ...this.runs.map((run) => run.outside)),
      samples: this.runs.reduce((sum, run) => sum + run.samples, 0),
    };
  }

  private sample(): void {
    const sizes = allocatedByEntry(this.root);
    let total = 0;
    let outside = 0;
    for (const [name, bytes] of sizes) {
      total += bytes;
      if (this.outside.includes(name)) outside += bytes;
    }
    this.current.total = Math.max(this.current.total, total);
    this.current.outside = Math.max(this.current.outside, outside);
    this.current.samples++;
  }
}

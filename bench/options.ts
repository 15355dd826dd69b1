/** Command-line options of `npm run bench`. */
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchOptions {
  /** Payload sizes to run, in bytes, with the label they were given as. */
  sizes: { bytes: number; label: string }[];
  dir: string;
  keep: boolean;
  runs: number;
  /** Scenario names to run; empty = every scenario that runs by default. */
  only: string[];
  /** File counts of the `many` scenario's releases. */
  files: number[];
}

export const USAGE = `usage: npm run bench -- [--size 1G | --sizes 1G,4G] [--runs 3] [--dir DIR] [--keep] [--only bundle,images,media,serve,delta,many,many-images] [--files 2000,20000]
  --size    payload size of the synthetic release (binary units: 512M, 1G, 4G; default 1G)
  --sizes   several sizes in one run (throughput and peak RSS at each)
  --runs    timed runs per contender; the median is reported (default 3)
  --dir     work directory (default ${join(tmpdir(), 'airlock-bench')}); needs about 4x the largest size free
  --keep    keep the work directory (the synthetic release is reused by the next run)
  --only    run only these scenarios
  --files   file counts of the many-files scenario (default 2000,20000,200000)`;

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${JSON.stringify(text)} (expected e.g. 512M, 1G, 4G)`);
  const bytes = Math.round(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!);
  if (bytes < 64 * 2 ** 20) throw new Error(`size ${text} is too small: at least 64M (the release holds files up to hundreds of MB)`);
  return bytes;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string' },
      sizes: { type: 'string' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string', default: join(tmpdir(), 'airlock-bench') },
      keep: { type: 'boolean', default: false },
      only: { type: 'string', default: '' },
      files: { type: 'string', default: '2000,20000,200000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.size && values.sizes) throw new Error('give --size or --sizes, not both');
  const labels = (values.sizes ?? values.size ?? '1G').split(',').map((label) => label.trim()).filter(Boolean);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number of at least 1: ${values.runs}`);
  const files = values.files.split(',').map((count) => Number(count.trim()));
  if (files.some((count) => !Number.isInteger(count) || count < 100)) throw new Error(`--files: expected whole numbers of at least 100: ${values.files}`);
  return {
    files,
    sizes: labels.map((label) => ({ bytes: parseSize(label), label })),
    dir: values.dir,
    keep: values.keep,
    runs,
    only: values.only.split(',').map((name) => name.trim()).filter(Boolean),
  };
}

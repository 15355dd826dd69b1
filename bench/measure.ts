/**
 * Runs one contender's command and measures it: wall time (around the process, so Node's
 * start-up counts for ours) and peak resident memory from GNU time's %M, which is the
 * process's ru_maxrss: Node's worker threads share the process, so they are included; for
 * a shell pipeline it is the largest single process of the pipeline.
 * Before every timed run, the same untimed preparation for every contender: pending writes
 * flushed (`sync`, so one run's write-back does not slow the next) and the inputs read once
 * so they come from the page cache.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './units.js';

const GNU_TIME = '/usr/bin/time';

export interface Command {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface Contender {
  name: string;
  /** Ours or a stock tool (the ratios compare ours against each stock contender). */
  role: 'ours' | 'stock';
  command: Command;
  /** Files or directories read by the command: warmed into the page cache before each run. */
  inputs: string[];
  /** Files or directories the command writes: removed before each run. */
  outputs?: string[];
  /** Untimed, before each run (after the outputs are removed): puts back the state the command starts from. */
  prepare?: () => void;
  /** Throws when the run's result is wrong (a benchmark of a failing command means nothing). */
  check?: (stdout: string) => void;
  /** Started right before each run (warm-up included) and stopped when it ends: to sample something while the command runs. */
  monitor?: { start(): void; stop(): void };
}

export interface Sample {
  seconds: number;
  peakRssBytes: number;
}

export interface ContenderResult {
  name: string;
  role: 'ours' | 'stock';
  samples: Sample[];
  /** Median wall time. */
  seconds: number;
  /** Largest peak RSS over the runs. */
  peakRssBytes: number;
}

export function assertGnuTime(): void {
  const probe = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0 || !/^\d+\s*$/.test(probe.stderr)) {
    throw new Error(`${GNU_TIME} (GNU time) is needed for peak RSS: apt-get install -y time (scripts/bench.sh does)`);
  }
}

/** Reads every file under the paths once, so timed runs read from the page cache. */
export function warmPageCache(paths: readonly string[]): void {
  const buffer = Buffer.allocUnsafe(4 * 2 ** 20);
  const visit = (path: string): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
      return;
    }
    const fd = openSync(path, 'r');
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  };
  paths.forEach(visit);
}

function flushWrites(): void {
  spawnSync('sync');
}

async function runOnce(contender: Contender, rssFile: string): Promise<Sample & { stdout: string }> {
  const { argv, cwd, env } = contender.command;
  const started = process.hrtime.bigint();
  const child = spawn(GNU_TIME, ['-f', '%M', '-o', rssFile, ...argv], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) {
    throw new Error(`${contender.name} failed (exit ${code}): ${argv.join(' ')}\n${(stderr || stdout).trim().slice(-2000)}`);
  }
  const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
  return { seconds, peakRssBytes: kib * 1024, stdout };
}

/**
 * Runs every contender `runs` times, round-robin (A B C, A B C, ...) so that slow drift of
 * the machine spreads over all of them, and reports each one's median.
 */
export async function measureContenders(
  contenders: readonly Contender[],
  runs: number,
  workDir: string,
  say: (line: string) => void,
): Promise<ContenderResult[]> {
  const samples = contenders.map(() => [] as Sample[]);
  const rssFile = join(workDir, 'peak-rss.txt');
  // Round 0 is a warm-up, not counted: on this kind of VM, the first touch of fresh memory
  // (page cache for new files) is much slower than later ones, whichever contender pays it.
  for (let run = 0; run <= runs; run++) {
    for (const [index, contender] of contenders.entries()) {
      for (const output of contender.outputs ?? []) if (existsSync(output)) rmSync(output, { recursive: true, force: true });
      contender.prepare?.();
      flushWrites();
      warmPageCache(contender.inputs);
      contender.monitor?.start();
      const sample = await runOnce(contender, rssFile).finally(() => contender.monitor?.stop());
      contender.check?.(sample.stdout);
      if (run > 0) samples[index]!.push({ seconds: sample.seconds, peakRssBytes: sample.peakRssBytes });
      say(`  ${run === 0 ? 'warm-up' : `run ${run}/${runs}`} ${contender.name}: ${sample.seconds.toFixed(2)} s, peak RSS ${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
  }
  return contenders.map((contender, index) => ({
    name: contender.name,
    role: contender.role,
    samples: samples[index]!,
    seconds: median(samples[index]!.map((sample) => sample.seconds)),
    peakRssBytes: Math.max(...samples[index]!.map((sample) => sample.peakRssBytes)),
  }));
}

/**
 * The extension point: a scenario is one thing the benchmark measures (the bundle's build
 * and verify, image pull and push, ...). It returns rows for the table and the targets it
 * checks; main.ts runs the scenarios listed in scenarios.ts and report.ts prints them.
 */
import type { ContenderResult } from './measure.js';

export interface BenchContext {
  /** Repository root (where dist/airlock.mjs lives). */
  repo: string;
  /** The bundled CLI. */
  cli: string;
  /** A directory of this scenario's own, inside the work directory. */
  workDir: string;
  /** Payload size for size-dependent scenarios. */
  size: { bytes: number; label: string };
  runs: number;
  /** File counts for the many-files scenario (--files). */
  files: readonly number[];
  say: (line: string) => void;
}

export interface Row {
  scenario: string;
  size: string;
  operation: string;
  contender: string;
  role: 'ours' | 'stock';
  /** Median wall time over the runs. */
  seconds: number;
  /** Fastest run: the least disturbed by other load on the machine. */
  bestSeconds: number;
  samples: number[];
  /** The bytes the throughput is counted over (the payload, the same for every contender of an operation). */
  bytes: number;
  mibPerSecond: number;
  peakRssBytes: number;
  /** For a stock contender: ours' throughput divided by this one's (≥ 1 means ours is as fast or faster). */
  oursRatio?: number;
  /** The same for the fastest runs. */
  oursBestRatio?: number;
}

export interface TargetCheck {
  scenario: string;
  size: string;
  name: string;
  target: string;
  actual: string;
  pass: boolean;
}

export interface ScenarioResult {
  rows: Row[];
  targets: TargetCheck[];
  /** Facts a reader needs to judge the figures (what was generated, what was warmed, ...). */
  notes: string[];
}

export interface Scenario {
  name: string;
  description: string;
  /** Run once per --size (true), or once per benchmark run (false). */
  perSize: boolean;
  run(context: BenchContext): Promise<ScenarioResult>;
}

/** Table rows for one operation: ours first, each stock contender with ours' ratio to it. */
export function rowsFor(scenario: string, size: string, operation: string, bytes: number, results: readonly ContenderResult[]): Row[] {
  const ours = results.find((result) => result.role === 'ours');
  const best = (result: ContenderResult) => Math.min(...result.samples.map((sample) => sample.seconds));
  return results.map((result) => ({
    scenario,
    size,
    operation,
    contender: result.name,
    role: result.role,
    seconds: result.seconds,
    bestSeconds: best(result),
    samples: result.samples.map((sample) => sample.seconds),
    bytes,
    mibPerSecond: bytes / 2 ** 20 / result.seconds,
    peakRssBytes: result.peakRssBytes,
    oursRatio: result.role === 'stock' && ours ? result.seconds / ours.seconds : undefined,
    oursBestRatio: result.role === 'stock' && ours ? best(result) / best(ours) : undefined,
  }));
}

/** Ours against a stock contender, judged on the medians; the best runs' ratio is shown beside it. */
export function ratioTarget(scenario: string, size: string, name: string, stock: Row, goal: number): TargetCheck {
  const ratio = stock.oursRatio!;
  return { scenario, size, name, target: `≥ ${goal.toFixed(1)}×`, actual: `${ratio.toFixed(2)}× (best runs ${stock.oursBestRatio!.toFixed(2)}×)`, pass: ratio >= goal };
}

const RSS_TARGET_BYTES = 200 * 1e6;

/** Every scenario's memory target: peak RSS under 200 MB. */
export function rssTarget(scenario: string, size: string, name: string, bytes: number): TargetCheck {
  return { scenario, size, name, target: '< 200 MB', actual: `${(bytes / 1e6).toFixed(0)} MB`, pass: bytes < RSS_TARGET_BYTES };
}

/** The results as a markdown table (printed and written to bench/results/latest.md) and as JSON. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Row, TargetCheck } from './scenario.js';
import { GiB } from './units.js';

export interface BenchReport {
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; openssl: string; kernel: string };
  runs: number;
  /** 1-minute load average at the start of each scenario run. */
  loadAverages: number[];
  rows: Row[];
  targets: TargetCheck[];
  notes: string[];
}

export function machineFacts(): BenchReport['machine'] {
  const text = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / GiB),
    node: process.version,
    openssl: text('openssl', ['version']),
    kernel: text('uname', ['-r']),
  };
}

const seconds = (value: number) => value.toFixed(2);
/** A table cell: contender names hold shell pipes. */
const cell = (text: string) => text.replaceAll('|', '\\|');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function markdown(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    `# airlock benchmark, ${report.date}`,
    '',
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM; Node ${machine.node}; ${machine.openssl}; Linux ${machine.kernel}.`,
    `One untimed warm-up round, then the median of ${report.runs} runs per contender, run round-robin; before every run: \`sync\`, then the inputs read once (page cache warm).`,
    '',
    `Load average (1 min) when the runs started: ${report.loadAverages.map((load) => load.toFixed(1)).join(', ')} on ${machine.cores} cores: other processes on the machine slow every contender unevenly; "best" is the least disturbed run.`,
    '',
    '| size | operation | contender | median s | best s | runs (s) | MiB/s (median) | ours vs this (median) | ours vs this (best) | peak RSS |',
    '|---|---|---|---:|---:|---|---:|---:|---:|---:|',
    ...report.rows.map((row) =>
      [
        row.size,
        row.operation,
        row.role === 'ours' ? `**${row.contender}**` : row.contender,
        seconds(row.seconds),
        seconds(row.bestSeconds),
        row.samples.map(seconds).join(' / '),
        row.mibPerSecond.toFixed(0),
        row.oursRatio === undefined ? '' : `${row.oursRatio.toFixed(2)}×`,
        row.oursBestRatio === undefined ? '' : `${row.oursBestRatio.toFixed(2)}×`,
        mib(row.peakRssBytes),
      ]
        .map(cell)
        .join(' | ')
        .replace(/^/, '| ')
        .concat(' |'),
    ),
    '',
    'MiB/s counts payload bytes for every contender of an operation. "ours vs this" = this one\'s time / ours (above 1: ours is faster).',
    'Peak RSS is the process\'s maximum resident set (GNU time %M; worker threads included; for a pipeline, its largest process).',
    '',
    '| size | target | goal | actual | |',
    '|---|---|---|---|---|',
    ...report.targets.map((target) => `| ${target.size} | ${cell(target.name)} | ${target.target} | ${target.actual} | ${target.pass ? 'PASS' : '**MISS**'} |`),
    '',
    ...report.notes.map((note) => `- ${note}`),
    '',
  ];
  return lines.join('\n');
}

export function writeReport(resultsDir: string, report: BenchReport): { markdownFile: string; jsonFile: string } {
  mkdirSync(resultsDir, { recursive: true });
  const markdownFile = join(resultsDir, 'latest.md');
  const jsonFile = join(resultsDir, 'latest.json');
  writeFileSync(markdownFile, markdown(report));
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  return { markdownFile, jsonFile };
}

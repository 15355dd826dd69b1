/**
 * `npm run bench` (scripts/bench.sh runs setup first, then this with the same arguments).
 * Runs every scenario of scenarios.ts, prints a markdown table with PASS/MISS per target and
 * writes it with the raw figures to bench/results/. Missed targets are reported, not failed:
 * the benchmark is a measurement, not a test, so it exits 0 unless it could not measure.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, USAGE } from './options.js';
import { assertGnuTime } from './measure.js';
import { machineFacts, markdown, writeReport, type BenchReport } from './report.js';
import type { BenchContext, ScenarioResult } from './scenario.js';
import { SCENARIOS } from './scenarios.js';
import { pageCacheWarning, prepareWorkDir, removeDir } from './workdir.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => console.error(line);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const unknown = options.only.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const scenarios = SCENARIOS.filter((scenario) => options.only.length === 0 || options.only.includes(scenario.name));
  const cli = join(repo, 'dist', 'airlock.mjs');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run node scripts/build.mjs (scripts/bench.sh does)`);
  assertGnuTime();
  const largest = Math.max(...options.sizes.map((size) => size.bytes));
  await prepareWorkDir(options.dir, options.keep ? options.sizes.reduce((sum, size) => sum + size.bytes, 0) : largest);

  const results: ScenarioResult[] = [];
  const loadAverages: number[] = [];
  const run = async (scenarioIndex: number, size: BenchContext['size'], workDir: string) => {
    const scenario = scenarios[scenarioIndex]!;
    say(`\n== ${scenario.name} (${size.label}): ${scenario.description}`);
    mkdirSync(workDir, { recursive: true });
    loadAverages.push(loadavg()[0]!);
    if (loadAverages.at(-1)! > 0.5) say(`note: load average ${loadAverages.at(-1)!.toFixed(1)}: other processes are running; figures will be noisy`);
    try {
      results.push(await scenario.run({ repo, cli, workDir, size, runs: options.runs, files: options.files, say }));
    } finally {
      if (!options.keep) await removeDir(workDir);
    }
  };
  for (const [index, scenario] of scenarios.entries()) {
    if (!scenario.perSize) {
      await run(index, options.sizes[0]!, join(options.dir, scenario.name));
      continue;
    }
    for (const size of options.sizes) {
      const warning = pageCacheWarning(size.bytes);
      if (warning) say(`note: ${warning}`);
      await run(index, size, join(options.dir, `${scenario.name}-${size.label}`));
    }
  }

  const report: BenchReport = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: machineFacts(),
    runs: options.runs,
    loadAverages,
    rows: results.flatMap((result) => result.rows),
    targets: results.flatMap((result) => result.targets),
    notes: results.flatMap((result) => result.notes),
  };
  const files = writeReport(join(repo, 'bench', 'results'), report);
  console.log(`\n${markdown(report)}`);
  say(`written: ${files.markdownFile}, ${files.jsonFile}${options.keep ? `; work directory kept: ${options.dir}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && /^(unknown|Unexpected) (option|argument)/i.test(error.message)) console.error(USAGE);
  process.exitCode = 1;
});

/**
 * Health gates in an install: the site's Prometheus they need (checked before the payload is
 * read), their baselines (sampled once the plan is confirmed, before the journal begins, so
 * before anything on the site changes, and recorded in the journal's steps), and the gate step
 * itself: sampled with progress lines, its result written to `installs/<id>/gates/<name>.json`
 * before the step is done or failed, so the receipt and audit line of a resumed run still have
 * it. A failed gate is a failed step like a failed script, and gets the same reaction.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';
import { writeFileDurable } from '../fs/durable.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { isHealthGate } from '../manifest/health-gate.js';
import type { Site } from '../manifest/site.js';
import { evaluateGate } from '../telemetry/evaluate-gate.js';
import { describeGate, formatValue, needsBaseline } from '../telemetry/gate-condition.js';
import { gateResultSchema, type GateResult } from '../telemetry/gate-result.js';
import { resolveEndpoint, telemetryLimits, type Endpoint } from '../telemetry/http.js';
import { queryValue } from '../telemetry/prometheus-query.js';
import type { Output } from '../ui/output.js';
import type { InstallStep } from './install-steps.js';
import type { InstallBegin } from './journal.js';
import { statePaths } from './state.js';

type GateStep = Extract<InstallStep, { kind: 'gate' }>;

/** The site's Prometheus: SITE_INVALID without `telemetry.prometheus` (`needs` says what for), VARIABLE_MISSING without its token's variable. */
function sitePrometheus(site: Site, needs: string): Endpoint {
  const prometheus = site.telemetry.prometheus;
  if (prometheus === undefined) throw new AirlockError('SITE_INVALID', `${site.file}: ${needs}, but telemetry.prometheus.url is not set`);
  return resolveEndpoint(prometheus, 'telemetry.prometheus', site.file);
}

/** The site's Prometheus when the release has gates (checked before the payload is read); undefined for a release without. */
export function gatePrometheus(site: Site, manifest: Pick<BundleManifest, 'hooks' | 'name' | 'version'>): Endpoint | undefined {
  const gates = manifest.hooks.healthCheck.filter(isHealthGate);
  if (gates.length === 0) return undefined;
  return sitePrometheus(site, `${manifest.name} ${manifest.version} has health gates on Prometheus (${gates.map((gate) => gate.name).join(', ')})`);
}

/**
 * The steps with each noWorseThan gate's value before: one query per gate, now. A Prometheus
 * that cannot give it refuses the install here, before anything changed.
 */
export async function withBaselines(steps: readonly InstallStep[], prometheus: Endpoint | undefined, output: Output): Promise<InstallStep[]> {
  const out: InstallStep[] = [];
  for (const step of steps) {
    if (step.kind !== 'gate' || !needsBaseline(step.gate) || prometheus === undefined) {
      out.push(step);
      continue;
    }
    const before = await queryValue(prometheus, step.gate.query, telemetryLimits().queryMs).catch((error: unknown) => {
      if (error instanceof AirlockError) throw new AirlockError(error.code, `health gate ${step.gate.name}: the value before the install could not be sampled: ${error.message}; nothing was changed`);
      throw error;
    });
    output.say(`  before  health gate ${step.gate.name}: ${step.gate.query} = ${formatValue(before.value)} at ${before.at}`);
    out.push({ ...step, before });
  }
  return out;
}

function resultFile(stateDir: string, installId: string, gate: string): string {
  return join(statePaths(stateDir).install(installId), 'gates', `${gate}.json`);
}

/** Runs the gate; resolves when it passed, throws its code (HEALTH_CHECK_FAILED or TELEMETRY_*) when not. */
export async function runGate(site: Site, installId: string, step: GateStep, output: Output): Promise<void> {
  const { gate } = step;
  if (needsBaseline(gate) && step.before === undefined) {
    throw new AirlockError('JOURNAL_INVALID', `health:${gate.name}: the journal has no value before the install for this noWorseThan gate`);
  }
  const prometheus = sitePrometheus(site, `health gate ${gate.name} queries Prometheus`);
  output.say(`  gate  health:${gate.name}  ${describeGate(gate, step.before?.value)}, on ${prometheus.url}`);
  const result = await evaluateGate(gate, step.before, {
    query: (query, timeoutMs) => queryValue(prometheus, query, timeoutMs),
    now: Date.now,
    sleep: (ms) => sleep(ms),
    queryLimitMs: telemetryLimits().queryMs,
    prometheus: prometheus.url,
    onSample: (sample, index, count) => output.say(`        ${String(index + 1).padStart(String(count).length)}/${count}  ${sample.at}  ${formatValue(sample.value)}  ${sample.ok ? 'ok' : 'FAILED'}`),
  });
  await writeFileDurable(resultFile(site.stateDir, installId, gate.name), `${JSON.stringify(result, null, 2)}\n`, 0o600);
  if (result.verdict === 'passed') {
    output.say(`        ${result.reason}`);
    return;
  }
  throw new AirlockError(result.code ?? 'HEALTH_CHECK_FAILED', `health:${gate.name} failed: ${result.reason}`);
}

/** The results of the run's gates that concluded, in step order (a gate a kill interrupted has none). */
export async function readGateResults(stateDir: string, begin: InstallBegin): Promise<GateResult[]> {
  const results: GateResult[] = [];
  for (const step of begin.steps) {
    if (step.kind !== 'gate') continue;
    const file = resultFile(stateDir, begin.installId, step.gate.name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    results.push(parseJson(gateResultSchema, text, file, 'JOURNAL_INVALID'));
  }
  return results;
}

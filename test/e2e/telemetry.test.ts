/**
 * Telemetry in the deploy, against the real thing: Debian's Prometheus scrapes a small app whose
 * error ratio the test (or the release's own config file) drives, node_exporter reads the
 * textfile directory the installer writes, a Pushgateway takes the pushed markers and is scraped
 * too. An install's health gate passes or fails on those real numbers, and a failure rolls the
 * release back for real; the markers are read back through Prometheus after an install, a
 * refusal, a rollback by a failed gate and an operator's rollback. Faults are real too: a
 * Prometheus stopped and one stalled by SIGSTOP, a token refused, a Pushgateway that is gone.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirlockError, type ErrorCode } from '../../src/base/errors.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { Endpoint } from '../../src/telemetry/http.js';
import { queryValue } from '../../src/telemetry/prometheus-query.js';
import { runCli } from '../support/cli.js';
import { auditLines, install, makeFixture, makeSite, snapshot, stateTextWithoutBackups, type Fixture, type TestSite } from '../support/install-fixture.js';
import { freePort } from '../support/ports.js';
import {
  startBearerProxy,
  startMetricsApp,
  startNodeExporter,
  startPrometheus,
  startPushgateway,
  type BearerProxy,
  type Process,
  type Server,
  type TestPrometheus,
} from '../support/telemetry.js';

const TOKEN = 'prom-tok-NEVER-PRINT-9931';

let fixture: Fixture;
let textfiles: string;
let app: Server;
let nodeExporter: Process;
let pushgateway: Process;
let prometheus: TestPrometheus;
let proxy: BearerProxy;
let v100: string;
/** What the app reports when no release config says otherwise. */
let ratio = 0.01;
/** A config root whose app/health.conf (installed by a release) sets the app's error ratio. */
let watched: string | undefined;

async function appRatio(): Promise<number> {
  if (watched !== undefined && existsSync(join(watched, 'app/health.conf'))) {
    const match = /error_ratio=([\d.]+)/.exec(await readFile(join(watched, 'app/health.conf'), 'utf8'));
    if (match) return Number(match[1]);
  }
  return ratio;
}

beforeAll(async () => {
  fixture = await makeFixture();
  textfiles = await mkdtemp(join(tmpdir(), 'airlock-textfile-'));
  [app, nodeExporter, pushgateway] = await Promise.all([startMetricsApp(appRatio), startNodeExporter(textfiles), startPushgateway()]);
  prometheus = await startPrometheus([
    { job: 'app', target: app.target },
    { job: 'node', target: nodeExporter.target },
    { job: 'pushgateway', target: pushgateway.target, honorLabels: true },
  ]);
  proxy = await startBearerProxy(prometheus.url, TOKEN);
  v100 = await fixture.build(await fixture.manifest('shop.yaml'));
  await prometheus.waitFor('app_error_ratio', (result) => result.length === 1);
});

afterAll(async () => {
  await Promise.all([prometheus?.stop(), nodeExporter?.stop(), pushgateway?.stop(), app?.stop(), proxy?.stop()]);
  if (textfiles !== undefined) await rm(textfiles, { recursive: true, force: true });
});

/** shop 1.1.0 with these health checks (YAML list items) and, when given, an app/health.conf that sets the app's error ratio. */
async function gatedRelease(version: string, checks: string[], appConfig?: string): Promise<string> {
  let text = (await fixture.manifest('shop-1.1.0.yaml')).replace('version: 1.1.0', `version: ${version}`);
  text = text.replace(/\nhooks:[\s\S]*?(?=\nonHealthCheckFailure)/, `\nhooks:\n  healthCheck:\n${checks.map((check) => `    - ${check}\n`).join('')}`);
  const files: Record<string, string> = {};
  if (appConfig !== undefined) {
    files[`variants/app-${version}/health.conf`] = appConfig;
    text = text.replace('  prod:\n', `  prod:\n    - { src: variants/app-${version}/health.conf, dest: app/health.conf }\n`);
  }
  return fixture.build(text, files);
}

const errorRate = (extra = 'below: 0.5, for: 3s, interval: 1s, timeout: 20s') => `{ name: error-rate, kind: prometheus, query: 'max(app_error_ratio)', ${extra} }`;

function telemetrySite(name: string, telemetry: string[], extra: string[] = []): Promise<TestSite> {
  return makeSite(fixture, { site: name, extra: ['telemetry:', ...telemetry.map((line) => `  ${line}`), ...extra].join('\n') });
}

async function receipt(site: TestSite): Promise<Record<string, any>> {
  const dir = join(site.state, 'receipts');
  const files = (await readdir(dir)).sort();
  const texts = await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')));
  // The newest receipt: the one whose run finished last.
  return texts.map((text) => JSON.parse(text) as Record<string, any>).sort((a, b) => String(a.finishedAt).localeCompare(String(b.finishedAt))).at(-1)!;
}

async function status(site: TestSite): Promise<Record<string, any>> {
  const result = await runCli(['status', '--site', site.file, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, any>;
}

/** The value of one series, once Prometheus has it as asked. */
async function seriesValue(query: string, expected: number): Promise<void> {
  await prometheus.waitFor(query, (result) => result.length === 1 && result[0]!.value === expected);
}

describe('health gates on real metrics', () => {
  it('passes a gate the metrics hold, and shows its query, samples and verdict in the progress, receipt, audit line and status', async () => {
    ratio = 0.01;
    const site = await telemetrySite('tg-pass', [`prometheus: { url: ${prometheus.url} }`, `textfile: ${textfiles}`, `pushgateway: { url: ${pushgateway.url} }`]);
    expect((await install(v100, site)).code).toBe(0);
    const bundle = await gatedRelease('1.1.0', ['{ name: config-complete, script: shop/hooks/health-check.sh }', errorRate()]);

    const plan = await runCli(['install', bundle, '--site', site.file, '--plan-only']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`health gates on Prometheus ${prometheus.url}:`);
    expect(plan.stdout).toContain('error-rate: max(app_error_ratio) below 0.5 for 3s, every 1s (timeout 20s)');
    // The security officer's report shows the same rule, in Markdown and HTML.
    for (const format of ['md', 'html']) {
      const file = join(site.state, `..`, `gated-report.${format}`);
      const report = await runCli(['inspect', bundle, '--report', file]);
      expect(report.code, report.stderr).toBe(0);
      expect(await readFile(file, 'utf8')).toContain('max(app_error_ratio) below 0.5 for 3s, every 1s (timeout 20s)');
    }

    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`gate  health:error-rate  max(app_error_ratio) below 0.5 for 3s, every 1s (timeout 20s), on ${prometheus.url}`);
    expect(result.stdout).toMatch(/ 4\/4 {2}\S+Z {2}0\.01 {2}ok/);
    expect(result.stdout).toContain('held below 0.5 for 3s: 4 samples, 0.01 to 0.01');
    expect(result.stdout).toContain('done  health gate error-rate passed');
    expect(result.stdout).toContain('done  health check config-complete passed');

    const gate = (await receipt(site)).gates[0];
    expect(gate).toMatchObject({ name: 'error-rate', query: 'max(app_error_ratio)', condition: 'below 0.5', verdict: 'passed', prometheus: prometheus.url });
    expect(gate.samples).toHaveLength(4);
    for (const sample of gate.samples) expect(sample).toMatchObject({ value: 0.01, ok: true });
    // Prometheus' own evaluation times, a second apart.
    const times = gate.samples.map((sample: { at: string }) => Date.parse(sample.at));
    expect(times[3] - times[0]).toBeGreaterThanOrEqual(2500);
    const audit = (await auditLines(site)).at(-1)!;
    expect(audit).toMatchObject({ outcome: 'succeeded', gates: [{ name: 'error-rate', verdict: 'passed', observed: { count: 4, last: 0.01 } }] });
    expect((audit.gates as unknown[])[0]).not.toHaveProperty('samples');
    expect((await status(site)).installed).toMatchObject({ version: '1.1.0', health: 'passed', gates: [{ name: 'error-rate', verdict: 'passed' }] });

    // The markers, through node_exporter and through the Pushgateway (scraped with honor_labels: its series keep job="airlock"), as Prometheus has them.
    for (const job of ['node', 'airlock']) {
      const info = await prometheus.waitFor(`airlock_release_info{site="tg-pass",job="${job}"}`, (r) => r.length === 1 && r[0]!.metric.version === '1.1.0');
      expect(info[0]!.metric).toMatchObject({ release: 'shop', version: '1.1.0', content_digest: (await status(site)).installed.bundleDigest });
    }
    await seriesValue('airlock_installs_total{site="tg-pass",job="node",outcome="succeeded"}', 2);
    await seriesValue('airlock_health_gate_passed{site="tg-pass",job="node",gate="error-rate",version="1.1.0"}', 1);
    await seriesValue('airlock_health_gate_value{site="tg-pass",job="node",gate="error-rate"}', 0.01);
    // docs/TELEMETRY.md's annotation queries: the run at its own time, and the release that appeared.
    const at = Date.parse(String(audit.at));
    await prometheus.waitFor(
      'airlock_last_run_timestamp_seconds{site="tg-pass",job="node",action="install",outcome="succeeded",version="1.1.0"} * 1000',
      (r) => r.length === 1 && Math.abs(r[0]!.value - at) < 1,
    );
    const appeared = await prometheus.query('airlock_release_info{site="tg-pass",job="node"} unless airlock_release_info{site="tg-pass",job="node"} offset 1m');
    expect(appeared.map((series) => series.metric.version)).toEqual(['1.1.0']);

    // A refusal is marked too, and the counters come from the audit log, so they carry on across runs.
    const refused = await install(v100, site);
    expect(refused.code).toBe(exitCodeFor('DOWNGRADE'));
    await seriesValue('airlock_last_run_outcome{site="tg-pass",job="node",outcome="refused"}', 1);
    await seriesValue('airlock_installs_total{site="tg-pass",job="airlock",outcome="refused"}', 1);
    await seriesValue('airlock_installs_total{site="tg-pass",job="node",outcome="succeeded"}', 2);
    await prometheus.waitFor('changes(max by (site) (airlock_last_run_timestamp_seconds{site="tg-pass",job="node"})[1m:1s]) > 0', (r) => r.length === 1);

    // An operator's rollback: the site is back on 1.0.0 on the graphs.
    const rollback = await runCli(['rollback', '--site', site.file, '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    await prometheus.waitFor('airlock_release_info{site="tg-pass",job="node"}', (r) => r.length === 1 && r[0]!.metric.version === '1.0.0');
    await seriesValue('airlock_rollbacks_total{site="tg-pass",job="node",outcome="succeeded"}', 1);
    const file = await readFile(join(textfiles, 'airlock.prom'), 'utf8');
    expect(file).toContain('airlock_release_info{site="tg-pass",release="shop",version="1.0.0",content_digest="');
    expect(file).toContain('# TYPE airlock_installs_total counter');
    expect((await readdir(textfiles)).filter((name) => name !== 'airlock.prom')).toEqual([]);
  });

  it('rolls the release back when the metrics turn bad after it is applied', async () => {
    ratio = 0.01;
    const site = await telemetrySite('tg-bad', [`prometheus: { url: ${prometheus.url} }`, `textfile: ${textfiles}`]);
    watched = site.etc;
    expect((await install(v100, site)).code).toBe(0);
    const before = await snapshot(site);
    // The release's own config breaks the app: its error ratio goes to 0.9 once the file is written.
    const bundle = await gatedRelease('1.2.0', [errorRate('below: 0.5, for: 6s, interval: 1s, timeout: 30s')], 'error_ratio=0.9\n');

    const result = await install(bundle, site);
    expect(result.code, result.stdout).toBe(exitCodeFor('HEALTH_CHECK_FAILED'));
    expect(result.stdout).toMatch(/0\.9 {2}FAILED/);
    expect(result.stderr).toMatch(/health:error-rate failed: max\(app_error_ratio\) was 0\.9 at \S+Z, not below 0\.5 \(sample \d of 7\)/);
    expect(result.stderr).toContain('configs restored to shop 1.0.0');

    const after = await snapshot(site);
    expect(after.configs).toEqual(before.configs);
    expect(after.state).toEqual(before.state);
    expect(existsSync(join(site.etc, 'app/health.conf'))).toBe(false);
    const audit = (await auditLines(site)).at(-1)!;
    expect(audit).toMatchObject({ outcome: 'rolled-back', code: 'HEALTH_CHECK_FAILED', gates: [{ name: 'error-rate', verdict: 'failed', code: 'HEALTH_CHECK_FAILED', observed: { last: 0.9 } }] });
    const gate = (await receipt(site)).gates[0];
    expect(gate).toMatchObject({ verdict: 'failed', code: 'HEALTH_CHECK_FAILED' });
    expect(gate.samples.at(-1)).toMatchObject({ value: 0.9, ok: false });
    expect((await status(site)).lastRun).toMatchObject({ outcome: 'rolled-back', gates: [{ verdict: 'failed' }] });

    // On the graphs: the site is back on 1.0.0, the gate failed, and the app is healthy again (its config is gone).
    await prometheus.waitFor('airlock_release_info{site="tg-bad",job="node"}', (r) => r.length === 1 && r[0]!.metric.version === '1.0.0');
    await seriesValue('airlock_health_gate_passed{site="tg-bad",job="node",gate="error-rate",version="1.2.0"}', 0);
    await seriesValue('airlock_installs_total{site="tg-bad",job="node",outcome="rolled-back"}', 1);
    await seriesValue('airlock_last_run_outcome{site="tg-bad",job="node",outcome="rolled-back"}', 1);
    await seriesValue('max(app_error_ratio)', 0.01);
    watched = undefined;
  });

  it('judges noWorseThan against the value before the install, recorded in the journal, even when the run is resumed', async () => {
    ratio = 0.1;
    await seriesValue('max(app_error_ratio)', 0.1);
    const site = await telemetrySite('tg-before', [`prometheus: { url: ${prometheus.url} }`], ['onHealthCheckFailure: stop']);
    expect((await install(v100, site)).code).toBe(0);
    const bundle = await gatedRelease('1.1.0', [errorRate('noWorseThan: before, tolerance: 50%, for: 2s, interval: 1s, timeout: 20s')]);

    const crashed = await runCli(['install', bundle, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: 'start:health:error-rate' } });
    expect(crashed.code, crashed.stderr).toBe(-1);
    expect(crashed.stdout).toMatch(/before {2}health gate error-rate: max\(app_error_ratio\) = 0\.1 at \S+Z/);
    const begin = JSON.parse((await readFile(join(site.state, 'journal.jsonl'), 'utf8')).split('\n')[0]!);
    expect(begin.steps.find((step: { kind: string }) => step.kind === 'gate')).toMatchObject({ gate: { name: 'error-rate', noWorseThan: 'before' }, before: { value: 0.1 } });

    // The error ratio triples while the installer is down. Sampled afresh, 0.3 would be the
    // baseline and pass; against the recorded 0.1 (at most 0.15 with 50%), it fails.
    ratio = 0.3;
    await seriesValue('max(app_error_ratio)', 0.3);
    const resumed = await install(bundle, site);
    expect(resumed.code, resumed.stderr).toBe(exitCodeFor('HEALTH_CHECK_FAILED'));
    expect(resumed.stdout).toContain('Resuming the interrupted install');
    expect(resumed.stderr).toContain('not at most 0.15 (sample 1 of 3; before: 0.1)');
    expect(resumed.stderr).toContain('stays installed as asked (onHealthCheckFailure: stop)');
    const installed = (await status(site)).installed;
    expect(installed).toMatchObject({ version: '1.1.0', health: 'failed', gates: [{ verdict: 'failed', before: { value: 0.1 }, condition: 'no worse than before (+50%, higher is worse): at most 0.15 (before: 0.1)' }] });
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'unhealthy', resumed: true });
    ratio = 0.01;
  });

  it('fails a gate with TELEMETRY_UNREACHABLE when Prometheus is stalled or stopped, and refuses before any change when the value before cannot be had', async () => {
    ratio = 0.01;
    const other = await startPrometheus([]);
    const site = await telemetrySite('tg-down', [`prometheus: { url: ${other.url} }`]);
    expect((await install(v100, site)).code).toBe(0);
    const bundle = await gatedRelease('1.1.0', [errorRate('below: 0.5, for: 2s, interval: 1s, timeout: 10s')]);
    const before = await snapshot(site);

    other.pause();
    const stalled = await runCli(['install', bundle, '--site', site.file, '--yes'], { env: { AIRLOCK_TELEMETRY_TIMEOUTS: 'query=1' } });
    other.resume();
    expect(stalled.code, stalled.stderr).toBe(exitCodeFor('TELEMETRY_UNREACHABLE'));
    expect(stalled.stderr).toContain(`airlock: TELEMETRY_UNREACHABLE: health:error-rate failed: ${other.url} did not answer the query within 1 s; configs restored to shop 1.0.0`);
    expect((await snapshot(site)).configs).toEqual(before.configs);

    await other.stop();
    const stopped = await install(bundle, site);
    expect(stopped.code, stopped.stderr).toBe(exitCodeFor('TELEMETRY_UNREACHABLE'));
    expect(stopped.stderr).toContain(`health:error-rate failed: ${other.url} could not be reached for the query (ECONNREFUSED); configs restored to shop 1.0.0`);
    // Configs and state as they were; the migration stays applied (migrations roll forward only).
    const after = await snapshot(site);
    expect({ configs: after.configs, state: after.state }).toEqual({ configs: before.configs, state: before.state });
    const audit = (await auditLines(site)).at(-1)!;
    expect(audit).toMatchObject({ outcome: 'rolled-back', code: 'TELEMETRY_UNREACHABLE', gates: [{ verdict: 'failed', code: 'TELEMETRY_UNREACHABLE', observed: { count: 0 } }] });

    // A noWorseThan gate needs the value before: without it the install never begins.
    const baseline = await gatedRelease('1.1.1', [errorRate('noWorseThan: before, for: 2s, interval: 1s')]);
    const refused = await install(baseline, site);
    expect(refused.code).toBe(exitCodeFor('TELEMETRY_UNREACHABLE'));
    expect(refused.stderr).toContain('health gate error-rate: the value before the install could not be sampled');
    expect(refused.stderr).toContain('nothing was changed');
    expect(await snapshot(site)).toEqual(after);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code: 'TELEMETRY_UNREACHABLE', release: { version: '1.1.1' } });
  });

  it('sends the bearer token from the environment to Prometheus and never shows it', async () => {
    ratio = 0.01;
    const site = await telemetrySite('tg-token', [`prometheus: { url: ${proxy.url}, bearerTokenEnv: PROM_TOKEN }`]);
    expect((await install(v100, site)).code).toBe(0);
    const bundle = await gatedRelease('1.1.0', [errorRate('below: 0.5, for: 1s, interval: 1s, timeout: 10s')]);
    const before = await snapshot(site);

    const missing = await install(bundle, site);
    expect(missing.code).toBe(exitCodeFor('VARIABLE_MISSING'));
    expect(missing.stderr).toContain('telemetry.prometheus.bearerTokenEnv names PROM_TOKEN, which is not set in the environment');
    expect(await snapshot(site)).toEqual(before);

    const wrong = await runCli(['install', bundle, '--site', site.file, '--yes'], { env: { PROM_TOKEN: 'not-the-token' } });
    expect(wrong.code, wrong.stderr).toBe(exitCodeFor('TELEMETRY_AUTH'));
    expect(wrong.stderr).toContain(`${proxy.url} answered HTTP 401: the bearer token from $PROM_TOKEN was refused`);
    expect(wrong.stderr).not.toContain('not-the-token');

    proxy.seen.length = 0;
    const good = await runCli(['install', bundle, '--site', site.file, '--yes'], { env: { PROM_TOKEN: TOKEN } });
    expect(good.code, good.stderr).toBe(0);
    expect(proxy.seen).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    for (const text of [good.stdout, good.stderr, wrong.stdout, missing.stderr, await stateTextWithoutBackups(site)]) expect(text).not.toContain(TOKEN);
  });
});

describe('the Prometheus client', () => {
  it('gives one finite number, and names what is wrong with anything else', async () => {
    const endpoint = new Endpoint(prometheus.url);
    const fails = async (query: string, code: ErrorCode, text: string) => {
      const error = await queryValue(endpoint, query, 5000).then(() => undefined, (caught: unknown) => caught);
      expect(isAirlockError(error, code), `${query}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(text);
    };
    expect(await queryValue(endpoint, 'max(app_error_ratio)', 5000)).toMatchObject({ value: 0.01 });
    expect((await queryValue(endpoint, 'scalar(max(app_error_ratio)) * 2', 5000)).value).toBe(0.02);
    await fails('max(app_error_ratio', 'TELEMETRY_QUERY_FAILED', 'was refused (bad_data: ');
    await fails('app_no_such_metric', 'TELEMETRY_QUERY_FAILED', 'gives no series (is the metric scraped? where no series means healthy, add `or vector(0)`)');
    await fails('up', 'TELEMETRY_QUERY_FAILED', 'gives 3 series ({__name__="up", instance=');
    await fails('app_error_ratio[1m]', 'TELEMETRY_QUERY_FAILED', 'gives a range vector; a gate needs one number');
    await fails('vector(0) / 0', 'TELEMETRY_QUERY_FAILED', 'gives NaN, not a finite number');
    await fails('vector(1) / 0', 'TELEMETRY_QUERY_FAILED', 'gives +Inf, not a finite number');
    // A server that is not Prometheus (the app, which answers its metrics to any path).
    const notPrometheus = await queryValue(new Endpoint(app.url), 'up', 5000).then(() => undefined, (caught: unknown) => caught);
    expect(isAirlockError(notPrometheus, 'TELEMETRY_UNREACHABLE'), String(notPrometheus)).toBe(true);
    expect(String(notPrometheus)).toContain(`${app.url}/api/v1/query answered something that is not the Prometheus HTTP API`);
  });

  it('refuses a release with gates on a site that names no Prometheus, before anything changes', async () => {
    const site = await makeSite(fixture, { site: 'tg-none' });
    expect((await install(v100, site)).code).toBe(0);
    const before = await snapshot(site);
    const result = await install(await gatedRelease('1.1.0', [errorRate()]), site);
    expect(result.code).toBe(exitCodeFor('SITE_INVALID'));
    expect(result.stderr).toContain(`${site.file}: shop 1.1.0 has health gates on Prometheus (error-rate), but telemetry.prometheus.url is not set`);
    expect(await snapshot(site)).toEqual(before);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code: 'SITE_INVALID' });
  });

  it('fails the install when a gate\'s query gives no number, and rolls it back', async () => {
    const site = await telemetrySite('tg-query', [`prometheus: { url: ${prometheus.url} }`]);
    expect((await install(v100, site)).code).toBe(0);
    const before = await snapshot(site);
    const bundle = await gatedRelease('1.1.0', [`{ name: error-rate, kind: prometheus, query: 'app_errors_missing', below: 0.5, for: 1s, interval: 1s }`]);
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('TELEMETRY_QUERY_FAILED'));
    expect(result.stderr).toContain('health:error-rate failed: ');
    expect(result.stderr).toContain('the query app_errors_missing gives no series');
    expect((await snapshot(site)).configs).toEqual(before.configs);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'rolled-back', code: 'TELEMETRY_QUERY_FAILED' });
  });
});

describe('deployment markers', () => {
  it('warns, and records in the audit line, when the Pushgateway is gone or the textfile directory is missing, and the install still succeeds', async () => {
    const gone = `http://127.0.0.1:${await freePort()}`;
    const missingDir = join(textfiles, 'no-such-dir');
    const site = await telemetrySite('tg-nopush', [`textfile: ${missingDir}`, `pushgateway: { url: ${gone} }`]);
    const result = await install(v100, site);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`airlock: WARNING: deployment markers not published: pushgateway: ${gone} could not be reached for the push (ECONNREFUSED)`);
    expect(result.stderr).toContain(`deployment markers not published: textfile ${missingDir}: ${missingDir}: no such directory`);
    const audit = (await auditLines(site)).at(-1)!;
    expect(audit.outcome).toBe('succeeded');
    expect(audit.telemetry).toEqual([expect.stringContaining(`textfile ${missingDir}`), expect.stringContaining(`pushgateway: ${gone}`)]);
    expect((await status(site)).installed).toMatchObject({ version: '1.0.0' });
  });

  it('pushes to the Pushgateway under job airlock and the site, replacing the group each run', async () => {
    const site = await telemetrySite('tg-push', [`pushgateway: { url: ${pushgateway.url} }`]);
    const group = async () => (await (await fetch(`${pushgateway.url}/metrics`)).text()).split('\n').filter((line) => line.includes('site="tg-push"'));
    expect((await install(v100, site)).code).toBe(0);
    expect(await group()).toContainEqual(expect.stringMatching(/^airlock_release_info\{content_digest="[0-9a-f]{64}",instance="",job="airlock",release="shop",site="tg-push",version="1.0.0"\} 1$/));
    expect(await group()).toContainEqual(expect.stringMatching(/^push_time_seconds\{instance="",job="airlock",site="tg-push"\} /));
    expect((await install(await fixture.build(await fixture.manifest('shop-1.1.0.yaml')), site)).code).toBe(0);
    const info = (await group()).filter((line) => line.startsWith('airlock_release_info'));
    expect(info).toEqual([expect.stringContaining('version="1.1.0"')]);
    expect(await group()).toContainEqual('airlock_installs_total{instance="",job="airlock",outcome="succeeded",site="tg-push"} 2');
  });
});

/**
 * Health gates in the release manifest (`kind: prometheus` healthCheck entries) and in
 * airlock.json: defaults, every mistake named with its YAML path, the gate carried into the
 * bundle in its place among the scripts, and airlock.json held to the same rules.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isAirlockError } from '../../src/base/errors.js';
import { collectRelease } from '../../src/build/collect-release.js';
import { bundleManifestSchema } from '../../src/manifest/bundle-manifest.js';
import { loadReleaseManifest, parseReleaseManifest } from '../../src/manifest/release.js';
import { bundleManifest, healthGate } from '../support/bundle-manifest.js';

const FILE = 'release.yaml';

function problems(text: string): string[] {
  try {
    parseReleaseManifest(parse(`name: shop\nversion: 1.0.0\n${text}`), FILE);
  } catch (error) {
    expect(isAirlockError(error, 'MANIFEST_INVALID'), String(error)).toBe(true);
    return (error as Error).message.split('\n');
  }
  throw new Error('manifest was accepted');
}

describe('healthCheck entries of kind prometheus', () => {
  it('parses gates beside scripts, with the documented defaults, and packs them into airlock.json in their order', async () => {
    const root = await mkdtemp(join(tmpdir(), 'airlock-gates-'));
    await writeFile(join(root, 'ping.sh'), '#!/bin/sh\n');
    const file = join(root, FILE);
    await writeFile(
      file,
      `name: shop
version: 1.0.0
hooks:
  healthCheck:
    - { name: errors, kind: prometheus, query: 'sum(rate(http_errors_total[1m]))', below: 0.5 }
    - { name: ping, script: ping.sh }
    - name: latency
      kind: prometheus
      query: histogram_quantile(0.99, sum by (le) (rate(http_seconds_bucket[5m])))
      noWorseThan: before
      tolerance: 10%
      for: 2m
      interval: 15s
      timeout: 5m
    - { name: up, kind: prometheus, query: 'min(up{job="shop"})', noWorseThan: before, tolerance: 0, worse: lower, for: 30s, interval: 5s }
`,
    );
    const manifest = await loadReleaseManifest(file);
    expect(manifest.hooks.healthCheck[0]).toEqual({ kind: 'prometheus', name: 'errors', query: 'sum(rate(http_errors_total[1m]))', below: 0.5, for: 60, interval: 10, timeout: 120 });
    expect(manifest.hooks.healthCheck[1]).toEqual({ name: 'ping', script: 'ping.sh', timeout: 60 });
    const release = await collectRelease(file, manifest);
    expect(release.hooks.healthCheck).toEqual([
      { kind: 'prometheus', name: 'errors', query: 'sum(rate(http_errors_total[1m]))', below: 0.5, forSeconds: 60, intervalSeconds: 10, timeoutSeconds: 120 },
      { name: 'ping', path: 'hooks/ping.sh', timeoutSeconds: 60 },
      {
        kind: 'prometheus',
        name: 'latency',
        query: 'histogram_quantile(0.99, sum by (le) (rate(http_seconds_bucket[5m])))',
        noWorseThan: 'before',
        tolerance: '10%',
        forSeconds: 120,
        intervalSeconds: 15,
        timeoutSeconds: 300,
      },
      { kind: 'prometheus', name: 'up', query: 'min(up{job="shop"})', noWorseThan: 'before', tolerance: 0, worse: 'lower', forSeconds: 30, intervalSeconds: 5, timeoutSeconds: 90 },
    ]);
    // airlock.json, as an installer reads it back, holds the same gates.
    const parsed = bundleManifestSchema.parse(JSON.parse(JSON.stringify(bundleManifest({ hooks: release.hooks }))));
    expect(parsed.hooks.healthCheck).toEqual(release.hooks.healthCheck);
  });

  it('names every mistake with its YAML path', () => {
    expect(
      problems(`
hooks:
  healthCheck:
    - { name: a, kind: prometheus, query: up }
    - { name: b, kind: prometheus, query: up, below: 1, above: 0 }
    - { name: c, kind: prometheus, query: up, below: 1, tolerance: 5% }
    - { name: d, kind: prometheus, query: up, below: 1, for: 10s, interval: 20s }
    - { name: e, kind: prometheus, query: up, below: 1, for: 1m, timeout: 1m }
    - { name: f, kind: prometheus, query: up, below: 1, for: 1h, interval: 1s }
    - { name: g, kind: prometheus, query: up, noWorseThan: after }
    - { name: h, kind: prometheus, query: up, noWorseThan: before, tolerance: ten }
    - { name: i, kind: prometheus, query: '  ', below: '0.5' }
    - { name: j, kind: grafana, query: up }
    - { name: k, kind: prometheus, query: up, below: 1, timeout: soon }
    - { name: a, kind: prometheus, query: up, below: 1, script: x.sh }
`),
    ).toEqual([
      `${FILE}: hooks.healthCheck[0].below: give exactly one condition: below, above or noWorseThan`,
      `${FILE}: hooks.healthCheck[1].below: give exactly one condition: below, above or noWorseThan (found below and above)`,
      `${FILE}: hooks.healthCheck[2].tolerance: tolerance only applies with noWorseThan: before`,
      `${FILE}: hooks.healthCheck[3].interval: the sampling interval must not be longer than for`,
      `${FILE}: hooks.healthCheck[4].timeout: must be longer than for, or the gate could never pass`,
      `${FILE}: hooks.healthCheck[5].interval: for / interval gives more than 1000 samples: sample less often`,
      `${FILE}: hooks.healthCheck[6].noWorseThan: the only baseline is before (the value sampled just before the install)`,
      `${FILE}: hooks.healthCheck[7].tolerance: expected a non-negative number (an absolute amount) or a percentage such as 10%`,
      `${FILE}: hooks.healthCheck[8].query: must not be empty`,
      `${FILE}: hooks.healthCheck[8].below: expected a number`,
      `${FILE}: hooks.healthCheck[9].kind: expected kind: script (the default) or prometheus`,
      `${FILE}: hooks.healthCheck[10].timeout: expected a duration such as 60s, 5m or 1h: soon`,
      `${FILE}: hooks.healthCheck[11]: unknown key script`,
    ]);
  });

  it('holds airlock.json to the same rules (a signed bundle is still validated)', () => {
    const check = (healthCheck: unknown[]) => bundleManifestSchema.safeParse({ ...bundleManifest(), hooks: { preInstall: [], postInstall: [], healthCheck } });
    expect(check([healthGate()]).success).toBe(true);
    expect(check([healthGate({ above: 2 })]).error?.issues.map((i) => i.message)).toEqual(['give exactly one condition: below, above or noWorseThan (found below and above)']);
    expect(check([healthGate({ timeoutSeconds: 10 })]).success).toBe(false);
    // A gate's name becomes a file name in the install's directory: nothing that could leave it.
    expect(check([healthGate({ name: '../../etc/passwd' })]).success).toBe(false);
  });
});

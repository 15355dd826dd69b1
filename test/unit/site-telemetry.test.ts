/**
 * site.yaml's telemetry block: URLs without credentials, tokens by the name of their
 * environment variable, the textfile directory resolved against the site file, and the
 * token itself never in anything an endpoint prints or serialises.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../src/manifest/site.js';
import { resolveEndpoint } from '../../src/telemetry/http.js';

async function site(telemetry: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-site-'));
  const file = join(dir, 'site.yaml');
  await writeFile(file, `site: plant-a\nenvironment: prod\nstateDir: state\ntrust: trust\ntargets: { configRoot: etc }\n${telemetry}`);
  return file;
}

async function problems(telemetry: string): Promise<string[]> {
  const file = await site(telemetry);
  const error = await loadSite(file).then(() => undefined, (caught: unknown) => caught);
  expect(error, 'the site file was accepted').toBeDefined();
  return String((error as Error).message).split('\n').map((line) => line.replace(`${file}: `, ''));
}

describe('site.yaml telemetry', () => {
  it('is optional, and resolves the textfile directory against the site file', async () => {
    expect((await loadSite(await site(''))).telemetry).toEqual({});
    const file = await site('telemetry:\n  prometheus: { url: "https://prom.internal/prometheus/", bearerTokenEnv: PROM_TOKEN }\n  textfile: markers\n  pushgateway: { url: "http://push.internal:9091" }\n');
    expect((await loadSite(file)).telemetry).toEqual({
      prometheus: { url: 'https://prom.internal/prometheus/', bearerTokenEnv: 'PROM_TOKEN' },
      textfile: join(file, '..', 'markers'),
      pushgateway: { url: 'http://push.internal:9091' },
    });
  });

  it('refuses credentials in a URL, other schemes, and unknown keys', async () => {
    expect(
      await problems(
        'telemetry:\n  prometheus: { url: "http://admin:secret@prom:9090" }\n  pushgateway: { url: "ftp://push" }\n  textfile: ""\n  grafana: {}\n',
      ),
    ).toEqual([
      'telemetry.prometheus.url: expected http(s)://host:port[/path], without user, password, query or fragment (a token goes in bearerTokenEnv)',
      'telemetry.textfile: Too small: expected string to have >=1 characters',
      'telemetry.pushgateway.url: expected http(s)://host:port[/path], without user, password, query or fragment (a token goes in bearerTokenEnv)',
      'telemetry: unknown key grafana',
    ]);
    expect(await problems('telemetry:\n  prometheus: { url: "http://prom:9090/?token=x", bearerTokenEnv: "not a name" }\n')).toEqual([
      'telemetry.prometheus.url: expected http(s)://host:port[/path], without user, password, query or fragment (a token goes in bearerTokenEnv)',
      'telemetry.prometheus.bearerTokenEnv: expected an environment variable name',
    ]);
  });

  it('reads the token from its variable when a run needs it, and never shows it', () => {
    const endpoint = resolveEndpoint({ url: 'http://prom:9090/', bearerTokenEnv: 'PROM_TOKEN' }, 'telemetry.prometheus', 'site.yaml', { PROM_TOKEN: 's3cret-token' });
    expect(endpoint.url).toBe('http://prom:9090');
    expect(endpoint.authorization()).toEqual({ Authorization: 'Bearer s3cret-token' });
    for (const shown of [JSON.stringify(endpoint), inspect(endpoint, { showHidden: true, depth: 5 }), String(endpoint), JSON.stringify({ ...endpoint })]) {
      expect(shown).not.toContain('s3cret');
    }
    expect(() => resolveEndpoint({ url: 'http://prom', bearerTokenEnv: 'PROM_TOKEN' }, 'telemetry.prometheus', 'site.yaml', {})).toThrow(
      'site.yaml: telemetry.prometheus.bearerTokenEnv names PROM_TOKEN, which is not set in the environment',
    );
  });
});

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import { loadSite } from '../../src/manifest/site.js';

async function siteFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-site-'));
  const file = join(dir, 'site.yaml');
  await writeFile(file, text);
  return file;
}

describe('site file', () => {
  it('resolves paths against its own directory and tags each target', async () => {
    const file = await siteFile(`
site: plant-a
environment: prod
stateDir: state
trust: /etc/airlock/trust
variables: { db_host: db.internal, api_token: t0ken-value, workers: 8, tls: true }
targets:
  configRoot: etc
  databases:
    shop: { sqlite: { file: data/shop.db } }
    orders: { postgres: { host: 127.0.0.1, port: 5432, user: app, database: orders, passwordEnv: ORDERS_PW } }
  images: { ociLayout: images }
onHealthCheckFailure: stop
`);
    const site = await loadSite(file);
    const dir = join(file, '..');
    expect(site.stateDir).toBe(join(dir, 'state'));
    expect(site.trustDir).toBe('/etc/airlock/trust');
    expect(site.configRoot).toBe(join(dir, 'etc'));
    expect(site.databases.get('shop')).toEqual({ kind: 'sqlite', file: join(dir, 'data/shop.db') });
    expect(site.databases.get('orders')).toMatchObject({ kind: 'postgres', host: '127.0.0.1', passwordEnv: 'ORDERS_PW' });
    expect(site.images).toEqual({ kind: 'oci-layout', dir: join(dir, 'images') });
    expect(site.variables.workers).toBe(8);
    expect(site.onHealthCheckFailure).toBe('stop');
  });

  it('reports every problem with its path and never echoes a variable value', async () => {
    const file = await siteFile(`
site: plant a
environment: prod
stateDir: s
trust: t
variables: { db_password: { nested: hunter2-secret } }
targets:
  configRoot: etc
  databases:
    shop: { postgres: { url: "postgres://app:hunter2-secret@db/shop" } }
  images: { registry: "not a host" }
extra: 1
`);
    try {
      await loadSite(file);
      expect.unreachable();
    } catch (error) {
      expect(isAirlockError(error, 'SITE_INVALID')).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain(`${file}: site:`);
      expect(message).toContain('variables.db_password');
      expect(message).toContain('targets.databases.shop');
      expect(message).toContain('unknown key extra');
      expect(message).not.toContain('hunter2');
    }
  });
});

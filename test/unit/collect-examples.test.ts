import Database from 'better-sqlite3';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePaths } from '../../src/bundle/format.js';
import { collectRelease } from '../../src/build/collect-release.js';
import { loadReleaseManifest } from '../../src/manifest/release.js';

async function collectExample(name: string) {
  const file = join('manifests', name);
  const manifest = await loadReleaseManifest(file);
  return { manifest, release: await collectRelease(file, manifest) };
}

describe('example release shop 1.0.0 (manifests/shop.yaml)', () => {
  it('collects configs, migrations and hooks in bundle order, with modes and sizes from disk', async () => {
    const { release } = await collectExample('shop.yaml');
    expect(release.files.map((file) => [file.path, file.mode.toString(8)])).toEqual([
      ['configs/prod/nginx/conf.d/shop.conf', '644'],
      ['configs/prod/nginx/conf.d/upstream.conf', '644'],
      ['configs/prod/shop/app.yaml', '644'],
      ['configs/prod/shop/logging.conf', '644'],
      ['configs/staging/nginx/conf.d/shop.conf', '644'],
      ['configs/staging/nginx/conf.d/upstream.conf', '644'],
      ['configs/staging/shop/app.yaml', '644'],
      ['configs/staging/shop/logging.conf', '644'],
      ['hooks/health-check.sh', '755'],
      ['hooks/post-install.sh', '755'],
      ['hooks/pre-install-check.sh', '755'],
      ['migrations/shop/V1__create_customers.sql', '644'],
      ['migrations/shop/V2__create_orders.sql', '644'],
      ['migrations/shop/V3__add_order_status.sql', '644'],
    ]);
    const paths = release.files.map((file) => file.path);
    expect([...paths].sort(comparePaths)).toEqual(paths);
    for (const file of release.files) {
      if (file.source.kind !== 'file') throw new Error(`${file.path}: expected a file source`);
      expect(file.source.path.startsWith(resolve('manifests/shop') + '/')).toBe(true);
      expect(file.size).toBe((await stat(file.source.path)).size);
    }
    expect(release.configs.prod?.find((config) => config.dest === 'shop/app.yaml')).toEqual({
      path: 'configs/prod/shop/app.yaml',
      dest: 'shop/app.yaml',
      mode: '0640',
      template: true,
    });
    expect(release.hooks.preInstall).toEqual([{ name: 'check-environment', path: 'hooks/pre-install-check.sh', timeoutSeconds: 30 }]);
  });
});

describe('example upgrade shop 1.1.0 (manifests/shop-1.1.0.yaml)', () => {
  it('adds V4 with its undo script and keeps V1-V3 byte-identical to 1.0.0', async () => {
    const before = (await collectExample('shop.yaml')).release;
    const after = (await collectExample('shop-1.1.0.yaml')).release;
    expect(after.migrations.shop?.map((migration) => [migration.version, migration.undo])).toEqual([
      ['1', undefined],
      ['2', undefined],
      ['3', undefined],
      ['4', 'migrations/shop/U4__drop_order_items.sql'],
    ]);
    // The installer refuses an applied migration whose bytes changed: the upgrade must not edit V1-V3.
    const source = (release: typeof before, path: string) => {
      const file = release.files.find((candidate) => candidate.path === path);
      if (file?.source.kind !== 'file') throw new Error(`${path} missing`);
      return readFile(file.source.path);
    };
    for (const migration of before.migrations.shop ?? []) {
      expect(await source(after, migration.path), migration.path).toEqual(await source(before, migration.path));
    }
    const appYaml = 'configs/prod/shop/app.yaml';
    expect(await source(after, appYaml)).not.toEqual(await source(before, appYaml));
  });

  it('has migrations that apply in order on SQLite, and an undo script that reverts V4', async () => {
    const { release } = await collectExample('shop-1.1.0.yaml');
    const db = new Database(':memory:');
    const sql = async (path: string) => {
      const file = release.files.find((candidate) => candidate.path === path);
      if (file?.source.kind !== 'file') throw new Error(`${path} missing`);
      return readFile(file.source.path, 'utf8');
    };
    const tables = () => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    for (const migration of release.migrations.shop ?? []) db.exec(await sql(migration.path));
    expect(tables()).toEqual(['customers', 'order_items', 'orders']);
    db.exec("INSERT INTO customers (id, email, full_name) VALUES (1, 'ada@example.org', 'Ada')");
    db.exec('INSERT INTO orders (id, customer_id, total_cents) VALUES (1, 1, 1250)');
    expect(db.prepare('SELECT status FROM orders').pluck().get()).toBe('placed');
    expect(() => db.exec("UPDATE orders SET status = 'lost'")).toThrow(/CHECK constraint/);
    db.exec(await sql('migrations/shop/U4__drop_order_items.sql'));
    expect(tables()).toEqual(['customers', 'orders']);
    db.close();
  });
});

it('shop-with-images.yaml names an image in each of the three forms', async () => {
  const manifest = await loadReleaseManifest('manifests/shop-with-images.yaml');
  expect(manifest.images.map((image) => (image.ociLayout ? 'ociLayout' : image.dockerArchive ? 'dockerArchive' : 'registry'))).toEqual([
    'registry',
    'ociLayout',
    'dockerArchive',
  ]);
});

describe('example hooks (POSIX sh)', () => {
  const env = (environment: string) => ({ AIRLOCK_RELEASE_NAME: 'shop', AIRLOCK_RELEASE_VERSION: '1.0.0', AIRLOCK_ENVIRONMENT: environment });

  it('pre-install check accepts the release environments and refuses others', async () => {
    const ok = await execa('sh', ['manifests/shop/hooks/pre-install-check.sh'], { env: env('prod'), reject: false });
    expect([ok.exitCode, ok.stdout]).toEqual([0, 'pre-install: shop 1.0.0 for prod: checks passed']);
    const wrong = await execa('sh', ['manifests/shop/hooks/pre-install-check.sh'], { env: env('dev'), reject: false });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("environment 'dev'");
  });

  it('health check fails on a missing or unrendered config and passes on a complete one', async () => {
    const configRoot = await mkdtemp(join(tmpdir(), 'airlock-hook-'));
    try {
      const run = () =>
        execa('sh', ['manifests/shop/hooks/health-check.sh'], { env: { ...env('prod'), AIRLOCK_CONFIG_ROOT: configRoot }, reject: false });
      expect((await run()).exitCode).toBe(1);
      for (const file of ['shop/logging.conf', 'nginx/conf.d/shop.conf', 'nginx/conf.d/upstream.conf']) {
        await mkdir(dirname(join(configRoot, file)), { recursive: true });
        await writeFile(join(configRoot, file), 'x\n');
      }
      await writeFile(join(configRoot, 'shop/app.yaml'), 'host: {{db_host}}\n');
      const unrendered = await run();
      expect(unrendered.exitCode).toBe(1);
      expect(unrendered.stderr).toContain('unrendered template tags');
      await writeFile(join(configRoot, 'shop/app.yaml'), 'host: db.internal\n');
      expect((await run()).exitCode).toBe(0);
    } finally {
      await rm(configRoot, { recursive: true, force: true });
    }
  });
});

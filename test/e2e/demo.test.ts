/** The README's first command, `npm run demo` (scripts/demo.sh), end to end in a temp directory: images, a delta release, media. */
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('builds 1.0.0 with images made locally, installs it, builds 1.1.0 as a delta against the receipt, installs it from media, and a re-run has nothing to do', async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-demo-test-'));
    const demo = await execa('bash', ['scripts/demo.sh'], { env: { AIRLOCK_DEMO_DIR: dir }, reject: false, all: true });
    expect(demo.exitCode, demo.all).toBe(0);
    expect(demo.all).toContain('Signature Verified Successfully');
    expect(demo.all).toContain('shop 1.1.0 is already installed on site demo-site from this same bundle');
    expect((await readdir(join(dir, 'usb1'))).filter((name) => /\.airlock\.\d{3}$/.test(name)).length).toBeGreaterThan(1);

    const status = await runCli(['status', '--site', join(dir, 'site', 'site.yaml'), '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ installed: { name: 'shop', version: '1.1.0' } });
    // The site file is shown in step 5 as written; nothing airlock prints afterwards has the secret.
    expect(demo.all!.slice(demo.all!.indexOf('== 6.'))).not.toContain('demo-token-never-printed');

    // 1.1.0 crossed as a delta against the site's own receipt, and the site holds every image of it.
    expect(demo.all).toContain('delta against site demo-site (shop 1.0.0');
    const full = (await stat(join(dir, 'full', 'shop-1.1.0.airlock'))).size;
    const delta = (await stat(join(dir, 'delta', 'shop-1.1.0.airlock'))).size;
    expect(delta).toBeLessThan(full / 4);
    expect(demo.all).toContain(`full bundle ${full} bytes, delta ${delta} bytes`);
    const index = JSON.parse(await readFile(join(dir, 'site', 'images', 'index.json'), 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(
      ['api:1.0.0', 'web:1.0.0', 'web:1.1.0', 'worker:1.0.0'].map((tag) => `registry.demo.internal/shop/${tag}`),
    );
  }, 120_000);
});

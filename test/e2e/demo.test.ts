/** The README's first command, `npm run demo` (scripts/demo.sh), end to end in a temp directory. */
import { execa } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('builds, writes media, installs 1.0.0 and then 1.1.0 from the media, and a re-run has nothing to do', async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-demo-test-'));
    const demo = await execa('bash', ['scripts/demo.sh'], { env: { AIRLOCK_DEMO_DIR: dir }, reject: false, all: true });
    expect(demo.exitCode, demo.all).toBe(0);
    expect(demo.all).toContain('Signature Verified Successfully');
    expect(demo.all).toContain('shop 1.1.0 is already installed on site demo-site from this same bundle');
    expect((await readdir(join(dir, 'usb1'))).filter((name) => /\.airlock\.\d{3}$/.test(name)).length).toBeGreaterThan(1);

    const status = await runCli(['status', '--site', join(dir, 'site', 'site.yaml'), '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ installed: { name: 'shop', version: '1.1.0' } });
    // The site file is shown in step 4 as written; nothing airlock prints afterwards has the secret.
    expect(demo.all!.slice(demo.all!.indexOf('== 5.'))).not.toContain('demo-token-never-printed');
  }, 120_000);
});

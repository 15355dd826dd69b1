/**
 * Foreseeable faults of an install, each for real and each with its own code and a message
 * naming what failed (never INTERNAL): a read-only config root, a state directory under a
 * file, an installer that may not write the config root, a registry answering 5xx to every
 * upload, and a hook killed by a signal. Nothing is left half-applied, and a re-run after the
 * fault is cleared completes.
 */
import { execa } from 'execa';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { CLI } from '../support/cli.js';
import { makeTestImages, registryDigest } from '../support/images.js';
import { configFiles, exampleReleases, install, makeFixture, makeSite, shopVariant, type Fixture } from '../support/install-fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { mountTmpfs, unmountAll } from '../support/tmpfs.js';

let fixture: Fixture;
let v100: string;
let v110: string;
const registries: TestRegistry[] = [];

beforeAll(async () => {
  fixture = await makeFixture();
  ({ v100, v110 } = await exampleReleases(fixture));
});
afterAll(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  await unmountAll();
});

function noInternal(stderr: string): void {
  expect(stderr).not.toContain('INTERNAL');
}

describe('the filesystem', () => {
  it('a read-only config root: READ_ONLY_FILESYSTEM naming the file; configs as they were; installs once writable', async () => {
    const site = await makeSite(fixture);
    const disk = await mountTmpfs({ size: '1m', dir: site.etc });
    expect((await install(v100, site)).code).toBe(0);
    const before = await configFiles(site);
    await disk.readOnly(true);
    const result = await install(v110, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('READ_ONLY_FILESYSTEM'));
    expect(result.stderr).toMatch(new RegExp(`READ_ONLY_FILESYSTEM: ${site.etc}/\\S+: the filesystem holding ${site.etc}\\S* is mounted read-only`));
    noInternal(result.stderr);
    expect(await configFiles(site)).toEqual(before);
    await disk.readOnly(false);
    const rerun = await install(v110, site);
    expect(rerun.code, rerun.stderr).toBe(0);
  });

  it('a state directory under a file: NOT_A_DIRECTORY naming it, before anything is done', async () => {
    const site = await makeSite(fixture);
    const blocked = join(site.dir, 'blocked');
    await writeFile(blocked, 'a file, not a directory\n');
    await writeFile(site.file, (await readFile(site.file, 'utf8')).replace('stateDir: state', 'stateDir: blocked/state'));
    const result = await install(v100, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('NOT_A_DIRECTORY'));
    expect(result.stderr).toContain(`NOT_A_DIRECTORY: ${join(blocked, 'state')}: a component of the path is a file, not a directory`);
    expect(await configFiles(site)).toEqual({});
  });

  it('an installer that may not write the config root: PERMISSION_DENIED naming the file', async () => {
    const site = await makeSite(fixture);
    // Everything the installer reads or writes belongs to nobody, but the config root stays root's (0755).
    for (const dir of [fixture.dir, join(fixture.dir, 'bundles'), join(v100, '..'), fixture.trust]) await chmod(dir, 0o755);
    const nobody = Number((await execa('id', ['-u', 'nobody'])).stdout);
    await mkdir(site.etc, { mode: 0o755 });
    await chmod(site.dir, 0o755);
    await chown(site.dir, nobody, nobody);
    await chown(site.file, nobody, nobody);
    const run = await execa('runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'install', v100, '--site', site.file, '--yes'], { reject: false });
    expect(run.exitCode, run.stderr).toBe(exitCodeFor('PERMISSION_DENIED'));
    expect(run.stderr).toMatch(new RegExp(`PERMISSION_DENIED: permission denied on ${site.etc}/\\S+ \\(directory ${site.etc}\\S*\\)`));
    noInternal(run.stderr);
    expect(await configFiles(site)).toEqual({});
  });
});

describe('the registry', () => {
  it('answering 500 to every upload (its storage read-only): REGISTRY_ERROR after the bounded retries, no config changed', async () => {
    const storage = await mountTmpfs({ size: '16m' });
    const registry = await startRegistry({ storageDir: storage.dir });
    registries.push(registry);
    const images = await makeTestImages(join(fixture.dir, 'src', 'matrix-images'));
    const bundle = await fixture.build(
      (await fixture.manifest('shop.yaml')).replace('\nhooks:', '\nimages:\n  - { ref: registry.example.internal/shop/app1:1.0, ociLayout: matrix-images, tag: app1 }\n\nhooks:'),
    );
    const site = await makeSite(fixture, { images: `{ registry: "${registry.host}", insecure: true }` });
    await storage.readOnly(true);
    const started = Date.now();
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('REGISTRY_ERROR'));
    expect(result.stderr).toMatch(new RegExp(`REGISTRY_ERROR: registry ${registry.host.replace(/\./g, '\\.')}: HTTP 5\\d\\d on \\w+ /v2/shop/app1/\\S+.* \\(after 5 attempts\\); no config file was changed`));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await configFiles(site)).toEqual({});
    await storage.readOnly(false);
    const rerun = await install(bundle, site);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await registryDigest(`${registry.host}/shop/app1:1.0`)).toBe(images.app1.descriptor.digest);
  });
});

describe('hooks', () => {
  it('a pre-install hook killed by a signal: HOOK_FAILED naming the hook, the signal and its log; nothing changed', async () => {
    const site = await makeSite(fixture);
    await mkdir(join(fixture.dir, 'src', 'variants/hooks'), { recursive: true });
    await writeFile(join(fixture.dir, 'src', 'variants/hooks/killed.sh'), '#!/bin/sh\nkill -KILL $$\n', { mode: 0o755 });
    const bundle = await shopVariant(fixture, { version: '1.1.1', hooks: 'hooks:\n  preInstall:\n    - name: killed\n      script: variants/hooks/killed.sh\n' });
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('HOOK_FAILED'));
    expect(result.stderr).toMatch(/HOOK_FAILED: hook:preInstall:killed was killed by SIGKILL; its output is in \S+install\.log; no config file was changed/);
    expect(await configFiles(site)).toEqual({});
  });
});

/**
 * `airlock build` pulling images from a registry that needs a login, through the real CLI:
 * credentials from the environment, digests pinned, and the bundle read by stock skopeo.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { makeTestImages, seed, skopeo, type TestImages } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const USER = { username: 'builder', password: 'not:in ps' };
const env = { AIRLOCK_PASSPHRASE: 'pw', SOURCE_DATE_EPOCH: '1767225600', DOCKER_CONFIG: '/nonexistent' };
let dir: string;
let images: TestImages;
let registry: TestRegistry;
let manifest: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-build-images-'));
  images = await makeTestImages(join(dir, 'layout'));
  registry = await startRegistry({ basic: USER });
  await seed(images.layoutDir, 'app1', `${registry.host}/shop/app1:1.0`, { creds: `${USER.username}:${USER.password}` });
  manifest = join(dir, 'release.yaml');
  await writeFile(manifest, `name: shop\nversion: 2.0.0\nimages:\n  - { ref: "${registry.host}/shop/app1:1.0", insecure: true }\n`);
  expect((await runCli(['keys', 'generate', '--name', 'build', '--out', join(dir, 'keys')], { env })).code).toBe(0);
});

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('airlock build with images', () => {
  it('logs in with credentials from the environment, pins the digest, and skopeo reads the bundle', async () => {
    const args = ['build', manifest, '--key', join(dir, 'keys', 'build.key.pem'), '--out', join(dir, 'out'), '--cache', join(dir, 'cache')];
    const anonymous = await runCli(args, { env });
    expect(anonymous.code).toBe(exitCodeFor('REGISTRY_AUTH'));
    expect(anonymous.stderr).toContain(registry.host);

    const built = await runCli([...args, '--registry-login', registry.host, '--json'], {
      env: { ...env, AIRLOCK_REGISTRY_USER: USER.username, AIRLOCK_REGISTRY_PASSWORD: USER.password },
    });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout + built.stderr).not.toContain(USER.password);
    const result = JSON.parse(built.stdout);
    expect(result.images[0].digest).toBe(images.app1.descriptor.digest);

    const bundle = join(dir, 'out', 'shop-2.0.0.airlock');
    const ref = `${registry.host}/shop/app1:1.0`;
    const raw = await skopeo(['inspect', '--raw', `oci-archive:${bundle}:${ref}`]);
    expect(JSON.parse(raw).layers.length).toBe(2);
    const inspected = JSON.parse((await runCli(['inspect', bundle, '--json'])).stdout);
    expect(inspected.images).toEqual([expect.objectContaining({ ref, digest: images.app1.descriptor.digest })]);
  });

  it("logs in through the credential helper Docker's config names for the registry", async () => {
    const bin = join(dir, 'bin');
    const dockerConfig = join(dir, 'docker');
    await mkdir(bin, { recursive: true });
    await mkdir(dockerConfig, { recursive: true });
    // A real program speaking docker's credential-helper protocol, as `docker login` with a helper leaves behind.
    await writeFile(
      join(bin, 'docker-credential-airlocktest'),
      `#!/bin/sh\n[ "$1" = get ] || exit 2\nread server\n[ "$server" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '${JSON.stringify({ ServerURL: registry.host, Username: USER.username, Secret: USER.password })}'\n`,
      { mode: 0o755 },
    );
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'airlocktest' } }));
    const out = join(dir, 'out-helper');
    const built = await runCli(['build', manifest, '--key', join(dir, 'keys', 'build.key.pem'), '--out', out, '--cache', join(dir, 'cache-helper'), '--json'], {
      env: { ...env, DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout + built.stderr).not.toContain(USER.password);
    expect(JSON.parse(built.stdout).images[0].digest).toBe(images.app1.descriptor.digest);
  });
});

/**
 * Installing a release that carries images: into an OCI layout directory (the embedded
 * default) and into a real registry (CNCF distribution), checked with skopeo; and kill -9
 * between image pushes, then the same command again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { registryDigest, makeTestImages, type TestImages } from '../support/images.js';
import { copySite, install, makeFixture, makeSite, snapshot, type Fixture, type TestSite } from '../support/install-fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let fixture: Fixture;
let images: TestImages;
let bundle: string;
/** 1.0.0 and 1.1.0 both tag registry.example.internal/shop/app:stable, on app1 and then on app2. */
let stable100: string;
let stable110: string;
let registry: TestRegistry;
const refs = ['registry.example.internal/shop/app1:1.0', 'registry.example.internal/shop/app2:1.0', 'registry.example.internal/shop/multi:1.0'];

beforeAll(async () => {
  fixture = await makeFixture();
  [images, registry] = await Promise.all([makeTestImages(join(fixture.dir, 'src', 'images-layout')), startRegistry()]);
  const manifest = (await fixture.manifest('shop.yaml')).replace(
    '\nhooks:',
    `\nimages:\n${['app1', 'app2', 'multi'].map((tag, i) => `  - { ref: ${refs[i]}, ociLayout: images-layout, tag: ${tag} }`).join('\n')}\n\nhooks:`,
  );
  bundle = await fixture.build(manifest);
  const stable = (file: string, tag: string) =>
    fixture
      .manifest(file)
      .then((text) => fixture.build(text.replace('\nhooks:', `\nimages:\n  - { ref: registry.example.internal/shop/app:stable, ociLayout: images-layout, tag: ${tag} }\n\nhooks:`)));
  [stable100, stable110] = await Promise.all([stable('shop.yaml', 'app1'), stable('shop-1.1.0.yaml', 'app2')]);
});
afterAll(async () => {
  await registry?.stop();
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const receipt = async (site: TestSite) =>
  JSON.parse(await readFile(JSON.parse((await runCli(['status', '--site', site.file, '--json'])).stdout).installed.receipt, 'utf8')) as {
    imagesPushed: Array<{ ref: string; digest: string; target: string }>;
  };

const registrySite = () => makeSite(fixture, { images: `{ registry: "${registry.host}", insecure: true }` });

async function registryDigests(target = registry): Promise<string[]> {
  return Promise.all(['app1', 'app2', 'multi'].map((name) => registryDigest(`${target.host}/shop/${name}:1.0`)));
}

describe('install with images', () => {
  it('puts every image into the OCI layout directory, tagged by its ref', async () => {
    const site = await makeSite(fixture);
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(0);
    const layout = join(site.dir, 'images');
    expect(result.stdout).toContain(`Images -> OCI layout ${layout} (3):`);
    // Plan, progress and receipt name both the image and where it went.
    for (const ref of refs) {
      expect(result.stdout).toMatch(new RegExp(`\\+ ${escape(ref)} -> ${escape(`${layout}:${ref}`)}  [0-9a-f]{16}  `));
      expect(result.stdout).toContain(`done  pushed ${ref} -> ${layout}:${ref}`);
    }
    expect((await receipt(site)).imagesPushed).toEqual(refs.map((ref) => expect.objectContaining({ ref, target: `${layout}:${ref}` })));
    const index = JSON.parse(await readFile(join(site.dir, 'images', 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    const byRef = Object.fromEntries(index.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]));
    expect(byRef).toMatchObject({ [refs[0]!]: images.app1.descriptor.digest, [refs[1]!]: images.app2.descriptor.digest, [refs[2]!]: images.multi.descriptor.digest });
    const status = JSON.parse((await runCli(['status', '--site', site.file, '--json'])).stdout);
    expect(status.installed.version).toBe('1.0.0');
  });

  it('pushes every image into a registry, where skopeo finds them by tag with the same digests', async () => {
    const site = await registrySite();
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(0);
    expect(await registryDigests()).toEqual([images.app1.descriptor.digest, images.app2.descriptor.digest, images.multi.descriptor.digest]);
    const targets = ['app1', 'app2', 'multi'].map((name) => `${registry.host}/shop/${name}:1.0`);
    for (const [i, ref] of refs.entries()) {
      expect(result.stdout).toMatch(new RegExp(`\\+ ${escape(ref)} -> ${escape(targets[i]!)}  [0-9a-f]{16}  `));
      expect(result.stdout).toContain(`done  pushed ${ref} -> ${targets[i]}`);
    }
    expect((await receipt(site)).imagesPushed).toEqual(refs.map((ref, i) => ({ ref, digest: expect.stringMatching(/^sha256:/), target: targets[i] })));
  });

  it('finishes a push killed between images into a fresh registry, and --registry overrides the site target', { timeout: 120_000 }, async () => {
    const template = await makeSite(fixture);
    const reference = await copySite(template);
    expect((await install(bundle, reference)).code).toBe(0);
    for (const point of [`done:image:${refs[0]}`, `start:image:${refs[1]}`, `done:image:${refs[2]}`]) {
      const fresh = await startRegistry();
      try {
        const site = await copySite(template);
        const args = ['install', bundle, '--site', site.file, '--yes', '--registry', fresh.host, '--insecure-registry'];
        const crashed = await runCli(args, { env: { AIRLOCK_TEST_CRASH_AT: point } });
        expect(crashed.code, `${point}: ${crashed.stderr}`).toBe(-1);
        const rerun = await runCli(args);
        expect(rerun.code, `${point}: ${rerun.stderr}`).toBe(0);
        expect(rerun.stdout).toContain('Resuming the interrupted install');
        expect(await registryDigests(fresh)).toEqual([images.app1.descriptor.digest, images.app2.descriptor.digest, images.multi.descriptor.digest]);
        expect(await snapshot(site)).toEqual(await snapshot(reference));
      } finally {
        await fresh.stop();
      }
    }
  });

  it('points a tag the upgrade moved back at the previous image on rollback, in a registry and an OCI layout', async () => {
    const ref = 'registry.example.internal/shop/app:stable';
    const layoutTag = async (site: TestSite) =>
      (JSON.parse(await readFile(join(site.dir, 'images', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> }).manifests.find(
        (m) => m.annotations['org.opencontainers.image.ref.name'] === ref,
      )?.digest;
    const registryTag = async () => registryDigest(`${registry.host}/shop/app:stable`);
    for (const [site, tagged] of [
      [await makeSite(fixture), layoutTag],
      [await registrySite(), registryTag],
    ] as const) {
      expect((await install(stable100, site)).code).toBe(0);
      expect(await tagged(site)).toBe(images.app1.descriptor.digest);
      expect((await install(stable110, site)).code).toBe(0);
      expect(await tagged(site)).toBe(images.app2.descriptor.digest);
      const rollback = await runCli(['rollback', '--site', site.file, '--yes']);
      expect(rollback.code, rollback.stderr).toBe(0);
      expect(rollback.stdout).toContain(`Image tag ${ref} points at ${images.app1.descriptor.digest} again.`);
      expect(await tagged(site)).toBe(images.app1.descriptor.digest);
    }
  });
});

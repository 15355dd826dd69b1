/**
 * Images from a local OCI layout and from `docker save` archives: into the bundle, out into a
 * real registry, checked by skopeo. Archives are made by skopeo (docker-archive) and, for the
 * legacy `<id>/layer.tar` layout with symlinked duplicates that Docker writes, by hand.
 */
import { execa } from 'execa';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImages } from '../../src/images/collect.js';
import type { ImageSpec } from '../../src/manifest/release-images.js';
import { pushImages } from '../../src/images/push/push.js';
import { craftTar } from '../support/tar-craft.js';
import { layer, makeTestImages, openBundle, recordingOutput, registryDigest, sha256, skopeo, writeImageBundle, type TestImages } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let dir: string;
let images: TestImages;
let isolated: TestRegistry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-images-local-'));
  [images, isolated] = await Promise.all([makeTestImages(join(dir, 'layout')), startRegistry()]);
});

afterAll(async () => {
  await isolated?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const collect = (specs: ImageSpec[], cache = 'cache') =>
  collectImages(specs, { manifestDir: dir, cacheDir: join(dir, cache), output: recordingOutput(), dockerConfig: null });

async function pushAndInspect(files: Parameters<typeof writeImageBundle>[1], bundleImages: Awaited<ReturnType<typeof collect>>['images'], name: string) {
  const bundle = await writeImageBundle(join(dir, `${name}.airlock`), files);
  const { source, close } = await openBundle(bundle);
  try {
    return { bundle, pushed: await pushImages(source, bundleImages, { kind: 'registry', registry: isolated.host, insecure: true }, { output: recordingOutput() }) };
  } finally {
    await close();
  }
}

describe('from an OCI layout directory', () => {
  it('takes the image by its ref.name tag, keeps its digest, and pushes it unchanged', async () => {
    const collected = await collect([
      { ref: 'registry.example.com/shop/app1:1.0', ociLayout: 'layout', tag: 'app1' },
      { ref: 'registry.example.com/shop/multi:1.0', ociLayout: 'layout', tag: 'multi' },
    ]);
    expect(collected.images.map((image) => image.digest)).toEqual([images.app1.descriptor.digest, images.multi.descriptor.digest]);
    const { pushed } = await pushAndInspect(collected.files, collected.images, 'layout');
    expect(pushed.map((p) => p.target)).toEqual([`${isolated.host}/shop/app1:1.0`, `${isolated.host}/shop/multi:1.0`]);
    expect(await registryDigest(`${isolated.host}/shop/app1:1.0`)).toBe(images.app1.descriptor.digest);
    expect(await registryDigest(`${isolated.host}/shop/multi:1.0`)).toBe(images.multi.descriptor.digest);
  });

  it('names the tags it has when the tag is wrong or missing', async () => {
    await expect(collect([{ ref: 'example.com/x:1', ociLayout: 'layout', tag: 'nope' }])).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringMatching(/no image tagged nope.*app1/),
    });
    await expect(collect([{ ref: 'example.com/x:1', ociLayout: 'layout' }])).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', message: expect.stringContaining('name one with tag') });
    await expect(collect([{ ref: 'example.com/x:1', ociLayout: 'no-such-dir', tag: 'app1' }])).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });

  it('refuses a layout blob whose bytes do not match its digest', async () => {
    const copy = join(dir, 'layout-corrupt');
    await cp(join(dir, 'layout'), copy, { recursive: true });
    const victim = join(copy, 'blobs', 'sha256', images.baseLayerDigest.slice(7));
    const bytes = await readFile(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(victim, bytes);
    await expect(collect([{ ref: 'example.com/corrupt:1', ociLayout: 'layout-corrupt', tag: 'app1' }], 'cache-corrupt')).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringMatching(new RegExp(`example.com/corrupt:1.*${images.baseLayerDigest}`)),
    });
  });
});

describe('from a docker save archive', () => {
  it('converts an archive skopeo wrote: layers kept as stored, digests reproducible, pushed and read back unchanged', async () => {
    const archive = join(dir, 'app1-docker.tar');
    await skopeo(['copy', `oci:${images.layoutDir}:app1`, `docker-archive:${archive}:example.com/archive/app1:1.0`]);
    const first = await collect([{ ref: 'example.com/archive/app1:1.0', dockerArchive: 'app1-docker.tar' }], 'cache-archive-1');
    const second = await collect([{ ref: 'example.com/archive/app1:1.0', dockerArchive: 'app1-docker.tar' }], 'cache-archive-2');
    const image = first.images[0]!;
    expect(second.images[0]!.digest).toBe(image.digest);
    expect(image.platforms).toEqual(['linux/amd64']);

    const manifestFile = first.files.find((f) => f.path === `blobs/sha256/${image.digest.slice(7)}`)!;
    const manifest = JSON.parse(await readFile((manifestFile.source as { path: string }).path, 'utf8')) as { config: { digest: string }; layers: Array<{ mediaType: string; digest: string }> };
    const configFile = first.files.find((f) => f.path === `blobs/sha256/${manifest.config.digest.slice(7)}`)!;
    const config = JSON.parse(await readFile((configFile.source as { path: string }).path, 'utf8')) as { rootfs: { diff_ids: string[] } };
    // Uncompressed layers are their own diffs: the digests in the bundle are the config's diff_ids.
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar']);
    expect(manifest.layers.map((l) => l.digest)).toEqual(config.rootfs.diff_ids);

    const { bundle } = await pushAndInspect(first.files, first.images, 'archive');
    expect(await registryDigest(`${isolated.host}/archive/app1:1.0`)).toBe(image.digest);
    const raw = await execa('skopeo', ['inspect', '--raw', `oci-archive:${bundle}:example.com/archive/app1:1.0`], { encoding: 'buffer', stripFinalNewline: false });
    expect(sha256(Buffer.from(raw.stdout))).toBe(image.digest);
  });

  it("reads Docker's own layout: <id>/layer.tar members, a symlinked duplicate layer, several images picked by RepoTags", async () => {
    const one = layer({ 'a.txt': 'a\n' });
    const two = layer({ 'b.txt': 'b\n' });
    const config = (diffIds: string[]) => Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
    const wanted = config([sha256(one.tar), sha256(two.tar), sha256(one.tar)]);
    const other = config([sha256(two.tar)]);
    const archive = craftTar([
      { path: 'aaa/', type: 'Directory' },
      { path: 'aaa/layer.tar', data: one.tar },
      { path: 'bbb/layer.tar', data: two.tar },
      { path: 'ccc/layer.tar', type: 'SymbolicLink', linkpath: '../aaa/layer.tar' },
      { path: `${sha256(wanted).slice(7)}.json`, data: wanted },
      { path: `${sha256(other).slice(7)}.json`, data: other },
      {
        path: 'manifest.json',
        data: Buffer.from(
          JSON.stringify([
            { Config: `${sha256(other).slice(7)}.json`, RepoTags: ['shop/other:1'], Layers: ['bbb/layer.tar'] },
            { Config: `${sha256(wanted).slice(7)}.json`, RepoTags: ['shop/app:2.0'], Layers: ['aaa/layer.tar', 'bbb/layer.tar', 'ccc/layer.tar'] },
          ]),
        ),
      },
    ]);
    await writeFile(join(dir, 'docker-legacy.tar'), archive);
    const collected = await collect([{ ref: 'docker.io/shop/app:2.0', dockerArchive: 'docker-legacy.tar' }], 'cache-legacy');
    expect(collected.images[0]!.platforms).toEqual(['linux/arm64']);
    const layerBlobs = collected.files.filter((f) => f.path.endsWith(sha256(one.tar).slice(7)) || f.path.endsWith(sha256(two.tar).slice(7)));
    expect(layerBlobs).toHaveLength(2);

    await expect(collect([{ ref: 'docker.io/shop/missing:1', dockerArchive: 'docker-legacy.tar' }], 'cache-legacy')).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringContaining('shop/app:2.0'),
    });
  });

  it('refuses an archive whose layer does not match the config, and a file that is not an archive', async () => {
    const one = layer({ 'a.txt': 'a\n' });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from('something else'))] } }));
    await writeFile(
      join(dir, 'docker-bad.tar'),
      craftTar([
        { path: 'x/layer.tar', data: one.tar },
        { path: 'c.json', data: config },
        { path: 'manifest.json', data: Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:1'], Layers: ['x/layer.tar'] }])) },
      ]),
    );
    await expect(collect([{ ref: 'bad:1', dockerArchive: 'docker-bad.tar' }], 'cache-bad')).rejects.toMatchObject({ code: 'IMAGE_INVALID', message: expect.stringContaining('x/layer.tar') });
    await writeFile(join(dir, 'not-an-archive.tar'), 'hello, this is not a tar file\n'.repeat(40));
    await expect(collect([{ ref: 'bad:1', dockerArchive: 'not-an-archive.tar' }], 'cache-bad')).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
  });
});

/**
 * Images from a real registry into a bundle and out into a second one, checked by skopeo:
 * the connected network's registry ("upstream") and the isolated one, both CNCF distribution.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImages, type CollectedImages } from '../../src/images/collect.js';
import { pushImages } from '../../src/images/push/push.js';
import type { ImageSpec } from '../../src/manifest/release-images.js';
import {
  makeTestImages,
  openBundle,
  recordingOutput,
  registryDigest,
  registryRawManifest,
  seed,
  sha256,
  skopeo,
  writeImageBundle,
  type TestImages,
} from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let dir: string;
let images: TestImages;
let upstream: TestRegistry;
let isolated: TestRegistry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-images-'));
  [images, upstream, isolated] = await Promise.all([makeTestImages(join(dir, 'layout')), startRegistry(), startRegistry()]);
  await Promise.all(['app1', 'app2', 'multi', 'big'].map((tag) => seed(images.layoutDir, tag, `${upstream.host}/shop/${tag}:1.0`)));
});

afterAll(async () => {
  await Promise.all([upstream?.stop(), isolated?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const spec = (name: string, extra: Partial<ImageSpec> = {}): ImageSpec => ({ ref: `${upstream.host}/shop/${name}:1.0`, insecure: true, ...extra });

async function collect(specs: ImageSpec[], cache: string, platforms?: string[]): Promise<CollectedImages> {
  return collectImages(specs, { manifestDir: dir, cacheDir: join(dir, cache), output: recordingOutput(), dockerConfig: null, ...(platforms ? { platforms } : {}) });
}

describe('collecting from a registry', () => {
  let collected: CollectedImages;
  beforeAll(async () => {
    collected = await collect([spec('multi'), spec('app2'), spec('app1')], 'cache-main');
  });

  it('pins each tag to the digest the registry serves and keeps every platform of an index', () => {
    const byRef = new Map(collected.images.map((image) => [image.ref, image]));
    expect(byRef.get(spec('app1').ref)).toMatchObject({ digest: images.app1.descriptor.digest, platforms: ['linux/amd64'], mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(byRef.get(spec('multi').ref)).toMatchObject({ digest: images.multi.descriptor.digest, platforms: ['linux/amd64', 'linux/arm64/v8'] });
    expect(collected.images.map((image) => image.ref)).toEqual([spec('multi').ref, spec('app2').ref, spec('app1').ref]);
  });

  it('stores every blob once, shared base layer included, and sizes count each image whole', async () => {
    const blobPaths = collected.files.filter((f) => f.path.startsWith('blobs/')).map((f) => f.path);
    const expected = new Set([...images.app1.blobs, ...images.app2.blobs, ...images.multi.blobs].map((d) => `blobs/sha256/${d.slice(7)}`));
    expect(new Set(blobPaths)).toEqual(expected);
    expect(blobPaths.length).toBe(expected.size);
    expect(blobPaths.filter((p) => p.endsWith(images.baseLayerDigest.slice(7)))).toHaveLength(1);
    for (const file of collected.files.filter((f) => f.source.kind === 'file')) {
      const data = await readFile((file.source as { path: string }).path);
      expect(sha256(data)).toBe(`sha256:${file.path.slice('blobs/sha256/'.length)}`);
      expect(data.length).toBe(file.size);
    }
    const app1 = collected.images.find((image) => image.ref === spec('app1').ref)!;
    const app1Bytes = collected.files.filter((f) => images.app1.blobs.some((d) => f.path.endsWith(d.slice(7)))).reduce((sum, f) => sum + f.size, 0);
    expect(app1.size).toBe(app1Bytes);
  });

  it('writes index.json sorted by ref with ref.name annotations, and the same bytes on every build', async () => {
    const index = collected.files.find((f) => f.path === 'index.json')!;
    const data = (index.source as { data: Buffer }).data;
    const parsed = JSON.parse(data.toString()) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    const refs = parsed.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']);
    expect(refs).toEqual([spec('app1').ref, spec('app2').ref, spec('multi').ref]);
    expect(collected.files.find((f) => f.path === 'oci-layout')).toBeDefined();

    const again = await collect([spec('app1'), spec('multi'), spec('app2')], 'cache-main');
    expect((again.files.find((f) => f.path === 'index.json')!.source as { data: Buffer }).data.equals(data)).toBe(true);
  });

  it('selects platforms: one platform pins its manifest, all of them keep the index, a missing one is refused', async () => {
    const arm = await collect([spec('multi', { platforms: ['linux/arm64'] })], 'cache-platform');
    expect(arm.images[0]).toMatchObject({ digest: images.multiArm64.digest, platforms: ['linux/arm64/v8'] });
    expect(arm.files.some((f) => f.path.endsWith(images.multiAmd64.digest.slice(7)))).toBe(false);

    const both = await collect([spec('multi')], 'cache-platform', ['linux/amd64', 'linux/arm64']);
    expect(both.images[0]!.digest).toBe(images.multi.descriptor.digest);

    await expect(collect([spec('multi', { platforms: ['linux/s390x'] })], 'cache-platform')).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringContaining('linux/s390x'),
    });
    await expect(collect([spec('app1')], 'cache-platform', ['linux/arm64'])).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  it('names a missing tag', async () => {
    await expect(collect([{ ref: `${upstream.host}/shop/app1:nope`, insecure: true }], 'cache-missing')).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringContaining('shop/app1:nope'),
    });
  });
});

describe('the bundle for stock tools and the isolated registry', () => {
  let bundle: string;
  let collected: CollectedImages;
  beforeAll(async () => {
    collected = await collect([spec('app1'), spec('app2'), spec('multi')], 'cache-push');
    bundle = await writeImageBundle(join(dir, 'push.airlock'), collected.files);
  });

  it('is read by skopeo as an oci-archive, by ref', async () => {
    for (const image of collected.images) {
      const raw = await execa('skopeo', ['inspect', '--raw', `oci-archive:${bundle}:${image.ref}`], { encoding: 'buffer', stripFinalNewline: false });
      expect(sha256(Buffer.from(raw.stdout))).toBe(image.digest);
    }
    const copy = join(dir, 'skopeo-copy');
    await skopeo(['copy', `oci-archive:${bundle}:${spec('app1').ref}`, `oci:${copy}:app1`]);
    expect(JSON.parse(await readFile(join(copy, 'index.json'), 'utf8')).manifests[0].digest).toBe(images.app1.descriptor.digest);
  });

  it('pushes into the isolated registry with identical digests, mounting the shared base layer', async () => {
    const { source, close } = await openBundle(bundle);
    try {
      const pushed = await pushImages(source, collected.images, { kind: 'registry', registry: isolated.host, insecure: true }, { output: recordingOutput() });
      expect(pushed.map((p) => p.target)).toEqual(['app1', 'app2', 'multi'].map((name) => `${isolated.host}/shop/${name}:1.0`));
      expect(pushed[1]!.blobs.mounted).toBeGreaterThanOrEqual(1);
    } finally {
      await close();
    }
    for (const image of collected.images) {
      const target = image.ref.replace(upstream.host, isolated.host);
      expect(await registryDigest(target)).toBe(image.digest);
      expect(sha256(await registryRawManifest(target))).toBe(image.digest);
    }
    await skopeo(['copy', '--src-tls-verify=false', `docker://${isolated.host}/shop/app2:1.0`, `oci:${join(dir, 'pulled')}:app2`]);
  });

  it('sends nothing again on a second push', async () => {
    const { source, close } = await openBundle(bundle);
    const events: string[] = [];
    try {
      const pushed = await pushImages(source, collected.images, { kind: 'registry', registry: isolated.host, insecure: true }, {
        output: recordingOutput(),
        onProgress: (event) => events.push(event.outcome),
      });
      expect(pushed.every((p) => p.blobs.transferred === 0 && p.bytesTransferred === 0)).toBe(true);
      expect(new Set(events)).toEqual(new Set(['skipped']));
    } finally {
      await close();
    }
  });

  it('maps repositories under a prefix', async () => {
    const { source, close } = await openBundle(bundle);
    try {
      const [pushed] = await pushImages(source, [collected.images[0]!], { kind: 'registry', registry: isolated.host, insecure: true, repositoryMap: { prefix: 'mirror' } }, { output: recordingOutput() });
      expect(pushed!.target).toBe(`${isolated.host}/mirror/shop/app1:1.0`);
      expect(await registryDigest(pushed!.target)).toBe(images.app1.descriptor.digest);
    } finally {
      await close();
    }
  });

  it('pushes into an OCI layout directory that skopeo reads, and skips what is there on a re-run', async () => {
    const target = join(dir, 'oci-target');
    const { source, close } = await openBundle(bundle);
    try {
      const first = await pushImages(source, collected.images, { kind: 'oci-layout', dir: target }, { output: recordingOutput() });
      expect(first[0]!.blobs.transferred).toBeGreaterThan(0);
      const second = await pushImages(source, collected.images, { kind: 'oci-layout', dir: target }, { output: recordingOutput() });
      expect(second.every((p) => p.blobs.transferred === 0)).toBe(true);
    } finally {
      await close();
    }
    for (const image of collected.images) {
      const raw = await execa('skopeo', ['inspect', '--raw', `oci:${target}:${image.ref}`], { encoding: 'buffer', stripFinalNewline: false });
      expect(sha256(Buffer.from(raw.stdout))).toBe(image.digest);
    }
    await skopeo(['copy', `oci:${target}:${spec('multi').ref}`, `oci:${join(dir, 'from-target')}:multi`, '--all']);
  });

  it('uploads large blobs in chunks (PATCH) and the registry agrees on every digest', async () => {
    const big = await collect([spec('big')], 'cache-push');
    const file = await writeImageBundle(join(dir, 'big.airlock'), big.files);
    const { source, close } = await openBundle(file);
    try {
      await pushImages(source, big.images, { kind: 'registry', registry: isolated.host, insecure: true, chunkSize: 1024 * 1024, repositoryMap: { prefix: 'chunked' } }, { output: recordingOutput() });
    } finally {
      await close();
    }
    expect(await registryDigest(`${isolated.host}/chunked/shop/big:1.0`)).toBe(images.big.descriptor.digest);
    const patches = (await isolated.log()).split('\n').filter((line) => /PATCH \/v2\/chunked\/shop\/big\/blobs\/uploads/.test(line));
    // The 3 MiB layer in 1 MiB chunks.
    expect(patches.length).toBeGreaterThanOrEqual(3);
  });
});

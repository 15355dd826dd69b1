/**
 * Images under adverse conditions, with real registries: basic and bearer-token auth, a registry
 * killed in the middle of a push, a registry serving a blob that does not match its digest,
 * a registry that is not there, and plain HTTP that was not asked for.
 */
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImages, type CollectedImages, type CollectOptions } from '../../src/images/collect.js';
import type { ImageSpec } from '../../src/manifest/release-images.js';
import { pushImages, type BlobEvent } from '../../src/images/push/push.js';
import { CONNECTIONS_VARIABLE } from '../../src/images/registry/connection-limit.js';
import { LayoutBuilder, layer, makeTestImages, noise, openBundle, recordingOutput, registryDigest, seed, sha256, writeImageBundle, type TestImages } from '../support/images.js';
import { startRegistry, startTokenService, type TestRegistry, type TokenService } from '../support/registry.js';

const USER = { username: 'deployer', password: 'pa:ss word' };
const CREDS = `${USER.username}:${USER.password}`;

let dir: string;
let images: TestImages;
let upstream: TestRegistry;
const started: TestRegistry[] = [];

async function registry(options: Parameters<typeof startRegistry>[0] = {}): Promise<TestRegistry> {
  const started_ = await startRegistry(options);
  started.push(started_);
  return started_;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-images-fail-'));
  images = await makeTestImages(join(dir, 'layout'));
  upstream = await registry();
  await Promise.all(['app1', 'big'].map((tag) => seed(images.layoutDir, tag, `${upstream.host}/shop/${tag}:1.0`)));
});

afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

function collect(specs: ImageSpec[], cache: string, extra: Partial<CollectOptions> = {}): Promise<CollectedImages> {
  return collectImages(specs, { manifestDir: dir, cacheDir: join(dir, cache), output: recordingOutput(), dockerConfig: null, ...extra });
}

async function bundleOf(name: string, specs: ImageSpec[]): Promise<{ file: string; collected: CollectedImages }> {
  const collected = await collect(specs, 'cache');
  return { file: await writeImageBundle(join(dir, `${name}.airlock`), collected.files), collected };
}

describe('basic auth (htpasswd)', () => {
  let secured: TestRegistry;
  beforeAll(async () => {
    secured = await registry({ basic: USER });
    await seed(images.layoutDir, 'app1', `${secured.host}/shop/app1:1.0`, { creds: CREDS });
  });

  it('pulls with credentials given explicitly or found in a Docker config.json, and says when they are missing or wrong', async () => {
    const spec = { ref: `${secured.host}/shop/app1:1.0`, insecure: true };
    await expect(collect([spec], 'cache-basic')).rejects.toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining(`registry ${secured.host} requires credentials`) });
    await expect(collect([spec], 'cache-basic', { credentials: { [secured.host]: { ...USER, password: 'wrong' } } })).rejects.toMatchObject({
      code: 'REGISTRY_AUTH',
      message: expect.stringContaining('rejected the credentials for user deployer'),
    });

    const explicit = await collect([spec], 'cache-basic', { credentials: { [secured.host]: USER } });
    expect(explicit.images[0]!.digest).toBe(images.app1.descriptor.digest);

    const dockerConfig = join(dir, 'docker-config.json');
    await writeFile(dockerConfig, JSON.stringify({ auths: { [`http://${secured.host}`]: { auth: Buffer.from(CREDS).toString('base64') } } }));
    const fromFile = await collect([spec], 'cache-basic-2', { dockerConfig });
    expect(fromFile.images[0]!.digest).toBe(images.app1.descriptor.digest);
  });

  it('pushes with credentials, and refuses without', async () => {
    const { file, collected } = await bundleOf('basic', [{ ref: `${upstream.host}/shop/app1:1.0`, insecure: true }]);
    const { source, close } = await openBundle(file);
    try {
      const target = { kind: 'registry' as const, registry: secured.host, insecure: true, repositoryMap: { prefix: 'pushed' } };
      await expect(pushImages(source, collected.images, target, { output: recordingOutput() })).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
      await pushImages(source, collected.images, { ...target, credentials: USER }, { output: recordingOutput() });
    } finally {
      await close();
    }
    expect(await registryDigest(`${secured.host}/pushed/shop/app1:1.0`, { creds: CREDS })).toBe(images.app1.descriptor.digest);
  });
});

describe('bearer tokens (distribution token auth)', () => {
  let tokens: TokenService;
  let secured: TestRegistry;
  beforeAll(async () => {
    tokens = await startTokenService({ ...USER, anonymousPull: true });
    secured = await registry({ token: tokens });
    await seed(images.layoutDir, 'app1', `${secured.host}/shop/app1:1.0`, { creds: CREDS });
  });
  afterAll(async () => tokens?.close());

  it('pulls anonymously with a pull-scoped token, and pushes with credentials, mounting across repositories', async () => {
    const before = tokens.requests.length;
    const collected = await collect([{ ref: `${secured.host}/shop/app1:1.0`, insecure: true }], 'cache-token');
    expect(collected.images[0]!.digest).toBe(images.app1.descriptor.digest);
    const pulls = tokens.requests.slice(before);
    expect(pulls.length).toBeGreaterThanOrEqual(1);
    expect(pulls.every((r) => r.user === undefined && r.scopes.includes('repository:shop/app1:pull'))).toBe(true);

    const file = await writeImageBundle(join(dir, 'token.airlock'), collected.files);
    const { source, close } = await openBundle(file);
    try {
      const target = { kind: 'registry' as const, registry: secured.host, insecure: true, repositoryMap: { prefix: 'copy' } };
      await expect(pushImages(source, collected.images, target, { output: recordingOutput() })).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
      const [pushed] = await pushImages(source, collected.images, { ...target, credentials: USER }, { output: recordingOutput() });
      expect(pushed!.target).toBe(`${secured.host}/copy/shop/app1:1.0`);
    } finally {
      await close();
    }
    expect(tokens.requests.some((r) => r.user === USER.username && r.scopes.includes('repository:copy/shop/app1:pull,push'))).toBe(true);
    expect(await registryDigest(`${secured.host}/copy/shop/app1:1.0`, { creds: CREDS })).toBe(images.app1.descriptor.digest);
  });
});

describe('a registry that goes away', () => {
  it('stops a push with REGISTRY_UNREACHABLE naming the registry; the re-run sends only what is missing', async () => {
    const isolated = await registry();
    const { file, collected } = await bundleOf('interrupted', [{ ref: `${upstream.host}/shop/big:1.0`, insecure: true }]);
    const target = { kind: 'registry' as const, registry: isolated.host, insecure: true };
    const { source, close } = await openBundle(file);
    // One transfer at a time, so the kill at the first settled blob leaves the others unsent.
    process.env[CONNECTIONS_VARIABLE] = '1';
    try {
      const firstRun: BlobEvent[] = [];
      const failure = pushImages(source, collected.images, target, {
        output: recordingOutput(),
        onProgress: (event) => {
          firstRun.push(event);
          if (firstRun.length === 1) isolated.kill();
        },
      });
      await expect(failure).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE', message: expect.stringContaining(`registry ${isolated.host} unreachable`) });
      const landed = firstRun.filter((e) => e.outcome === 'uploaded').map((e) => e.digest);
      expect(landed.length).toBeGreaterThanOrEqual(1);

      await isolated.restart();
      delete process.env[CONNECTIONS_VARIABLE];
      const secondRun: BlobEvent[] = [];
      const [pushed] = await pushImages(source, collected.images, target, { output: recordingOutput(), onProgress: (event) => secondRun.push(event) });
      const total = images.big.blobs.length - 1; // every blob but the manifest
      expect(pushed!.blobs.skipped + pushed!.blobs.transferred).toBe(total);
      expect(pushed!.blobs.transferred).toBeGreaterThanOrEqual(1);
      // Whatever landed before the crash is not sent again.
      for (const digest of landed) expect(secondRun.find((e) => e.digest === digest)?.outcome).toBe('skipped');
    } finally {
      delete process.env[CONNECTIONS_VARIABLE];
      await close();
    }
    expect(await registryDigest(`${isolated.host}/shop/big:1.0`)).toBe(images.big.descriptor.digest);
  });

  it('sends a blob again whose record a crashed registry left broken (an empty link file: every HEAD answers 500)', async () => {
    const isolated = await registry();
    const { file, collected } = await bundleOf('broken-link', [{ ref: `${upstream.host}/shop/app1:1.0`, insecure: true }]);
    const target = { kind: 'registry' as const, registry: isolated.host, insecure: true };
    const { source, close } = await openBundle(file);
    try {
      await pushImages(source, collected.images, target, { output: recordingOutput() });
      const layer = images.baseLayerDigest;
      const link = join(isolated.storageDir, 'docker/registry/v2/repositories/shop/app1/_layers/sha256', layer.slice(7), 'link');
      await truncate(link, 0);
      const head = await fetch(`http://${isolated.host}/v2/shop/app1/blobs/${layer}`, { method: 'HEAD' });
      expect(head.status).toBe(500);

      const output = recordingOutput();
      const events: BlobEvent[] = [];
      await pushImages(source, collected.images, target, { output, onProgress: (event) => events.push(event) });
      expect(events.find((e) => e.digest === layer)?.outcome).toBe('uploaded');
      expect(events.filter((e) => e.digest !== layer).every((e) => e.outcome === 'skipped')).toBe(true);
      expect(output.lines.some((line) => line.startsWith('warn:') && line.includes(`sending blob ${layer} again`))).toBe(true);
    } finally {
      await close();
    }
    expect((await fetch(`http://${isolated.host}/v2/shop/app1/blobs/${images.baseLayerDigest}`, { method: 'HEAD' })).status).toBe(200);
    expect(await registryDigest(`${isolated.host}/shop/app1:1.0`)).toBe(images.app1.descriptor.digest);
  });

  it('reports a registry nobody listens on, and plain HTTP that was not asked for', async () => {
    const gone = await registry();
    const host = gone.host;
    await gone.stop();
    await expect(collect([{ ref: `${host}/shop/app1:1.0`, insecure: true }], 'cache-gone')).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      message: expect.stringMatching(new RegExp(`registry ${host} unreachable: ECONNREFUSED \\(after \\d+ attempts\\)`)),
    });
    await expect(collect([{ ref: `${upstream.host}/shop/app1:1.0` }], 'cache-gone')).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      message: expect.stringContaining('must be marked insecure'),
    });
  });
});

describe('a registry serving bad bytes', () => {
  it('rejects a blob that does not match its digest, or is short, naming the digest and the image, and caches nothing of it', async () => {
    const builder = new LayoutBuilder();
    const victimLayer = layer({ 'victim.bin': noise('victim', 40 * 1024) });
    const shortLayer = layer({ 'short.bin': noise('short', 20 * 1024) });
    builder.tag('victim', builder.image([victimLayer]));
    builder.tag('short', builder.image([shortLayer]));
    const layout = join(dir, 'layout-bad');
    await builder.write(layout);
    const bad = await registry();
    await seed(layout, 'victim', `${bad.host}/shop/victim:1.0`);
    await seed(layout, 'short', `${bad.host}/shop/short:1.0`);

    const victimDigest = sha256(victimLayer.gz);
    const data = bad.blobDataPath(victimDigest);
    const bytes = await readFile(data);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0x01;
    await writeFile(data, bytes);
    const shortDigest = sha256(shortLayer.gz);
    await truncate(bad.blobDataPath(shortDigest), 1000);

    const cache = 'cache-bad';
    await expect(collect([{ ref: `${bad.host}/shop/victim:1.0`, insecure: true }], cache)).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringMatching(new RegExp(`${bad.host}/shop/victim:1\\.0: blob ${victimDigest} does not match its digest`)),
    });
    await expect(collect([{ ref: `${bad.host}/shop/short:1.0`, insecure: true }], cache)).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringContaining(`blob ${shortDigest} has 1000 bytes`),
    });
    const cached = await readdir(join(dir, cache, 'blobs', 'sha256'));
    expect(cached).not.toContain(victimDigest.slice(7));
    expect(cached).not.toContain(shortDigest.slice(7));
    expect(await readdir(join(dir, cache, 'ingest'))).toEqual([]);
  });
});

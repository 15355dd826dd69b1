/**
 * A registry that accepts connections and then says nothing: a real docker-registry under
 * kill -STOP, during a pull (build) and during a push (install). Every wait is bounded
 * (AIRLOCK_REGISTRY_TIMEOUTS shortens the documented limits for the test), a `waiting for` line
 * shows while it waits, the failure is REGISTRY_TIMEOUT naming the registry, and after kill -CONT
 * the same command completes with the digests skopeo sees.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { collectImages } from '../../src/images/collect.js';
import { pushImages } from '../../src/images/push/push.js';
import { openBlob } from '../../src/images/registry/blobs.js';
import { RegistryTransport } from '../../src/images/registry/transport.js';
import type { Descriptor } from '../../src/oci/schema.js';
import { runCli } from '../support/cli.js';
import { makeTestImages, openBundle, recordingOutput, registryDigest, seed, writeImageBundle, type TestImages } from '../support/images.js';
import { configFiles, install, makeFixture, makeSite, type Fixture } from '../support/install-fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/** Limits of 2 s (connect 1 s), and no new attempt 2 s after the first failure: a stall is given up within about 5 s. */
const LIMITS = 'connect=1,firstByte=2,idle=2,retryWindow=2';
/** What the stalls below may take at most, with these limits. */
const BOUND_MS = 12_000;

let dir: string;
let images: TestImages;
let upstream: TestRegistry;
const started: TestRegistry[] = [];
const saved = process.env.AIRLOCK_REGISTRY_TIMEOUTS;

async function registry(): Promise<TestRegistry> {
  const one = await startRegistry();
  started.push(one);
  return one;
}

beforeAll(async () => {
  process.env.AIRLOCK_REGISTRY_TIMEOUTS = LIMITS;
  dir = await mkdtemp(join(tmpdir(), 'airlock-registry-stall-'));
  // One layer larger than the socket buffers between the registry and us, so a transfer can stall half-way.
  images = await makeTestImages(join(dir, 'layout'), { bigLayerSize: 32 * 1024 * 1024 });
  upstream = await registry();
  await Promise.all(['app1', 'big'].map((tag) => seed(images.layoutDir, tag, `${upstream.host}/shop/${tag}:1.0`)));
});
afterEach(() => {
  for (const one of started) one.resume();
});
afterAll(async () => {
  if (saved === undefined) delete process.env.AIRLOCK_REGISTRY_TIMEOUTS;
  else process.env.AIRLOCK_REGISTRY_TIMEOUTS = saved;
  await Promise.all(started.map((one) => one.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await work;
  return { value, ms: Date.now() - start };
}

describe('a pull from a registry that stops answering', () => {
  it('gives up on a blob whose download stalls half-way, with REGISTRY_TIMEOUT and a waiting line', async () => {
    const lines: string[] = [];
    const transport = new RegistryTransport(upstream.host, { insecure: true, onWait: (line) => lines.push(line) });
    const manifest = JSON.parse(await readFile(join(images.layoutDir, 'blobs', 'sha256', images.big.descriptor.digest.slice('sha256:'.length)), 'utf8')) as { layers: Descriptor[] };
    const blob = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    try {
      const body = await openBlob(transport, 'shop/big', blob, 'shop/big');
      const reader = body[Symbol.asyncIterator]();
      expect((await reader.next()).done).toBe(false);
      upstream.pause();
      const started = Date.now();
      let read = 0;
      const error = await (async () => {
        for (;;) {
          const next = await reader.next();
          if (next.done) return undefined;
          read += (next.value as Buffer).length;
        }
      })().catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
      expect(read).toBeLessThan(blob.size);
      expect((error as Error).message).toContain(`sent nothing more of its answer to GET /v2/shop/big/blobs/${blob.digest} for 2 s`);
      expect(lines.some((line) => line.startsWith(`waiting for registry ${upstream.host} to send the rest of its answer (GET /v2/shop/big/blobs/${blob.digest})`))).toBe(true);
    } finally {
      transport.close();
      upstream.resume();
    }
  });

  it('build: stops with REGISTRY_TIMEOUT within the limits, shows that it waits, and builds after kill -CONT', async () => {
    const fixture = await makeFixture();
    const manifest = (await fixture.manifest('shop.yaml')).replace('\nhooks:', `\nimages:\n  - { ref: ${upstream.host}/shop/big:1.0, insecure: true }\n\nhooks:`);
    upstream.pause();
    const start = Date.now();
    const failed = fixture.build(manifest).catch((e: unknown) => e);
    // fixture.build expects success: its failed expectation carries the CLI's stderr.
    const error = String(await failed);
    expect(Date.now() - start).toBeLessThan(BOUND_MS + 5000);
    expect(error).toContain(`REGISTRY_TIMEOUT: registry ${upstream.host} stopped answering: no answer to GET /v2/shop/big/manifests/1.0 within 2 s (after 2 attempts`);
    expect(error).toContain(`waiting for registry ${upstream.host} to answer (GET /v2/shop/big/manifests/1.0)`);
    upstream.resume();
    const bundle = await fixture.build(manifest);
    const inspected = await runCli(['inspect', bundle, '--json']);
    expect(JSON.parse(inspected.stdout).images[0].digest).toBe(await registryDigest(`${upstream.host}/shop/big:1.0`));
  });
});

describe('a push to a registry that stops answering', () => {
  it('stops a push stalled half-way with REGISTRY_TIMEOUT; after kill -CONT the re-run completes with skopeo digests', async () => {
    const cacheDir = join(dir, 'cache-push');
    const collected = await collectImages([{ ref: `${upstream.host}/shop/big:1.0`, insecure: true }], { manifestDir: dir, cacheDir, output: recordingOutput(), dockerConfig: null });
    const file = await writeImageBundle(join(dir, 'stall.airlock'), collected.files);
    const isolated = await registry();
    const target = { kind: 'registry' as const, registry: isolated.host, insecure: true, chunkSize: 4 * 1024 * 1024 };
    const { source, close } = await openBundle(file);
    try {
      const output = recordingOutput();
      let settled = 0;
      const { value: error, ms } = await timed(
        pushImages(source, collected.images, target, {
          output,
          onProgress: () => {
            if (++settled === 1) isolated.pause();
          },
        }).catch((e: unknown) => e),
      );
      expect(isAirlockError(error, 'REGISTRY_TIMEOUT'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^registry ${isolated.host.replace(/\./g, '\\.')} stopped answering: `));
      expect(ms).toBeLessThan(BOUND_MS);
      expect(output.lines.some((line) => line.startsWith(`warn: waiting for registry ${isolated.host}`))).toBe(true);

      isolated.resume();
      const [pushed] = await pushImages(source, collected.images, target, { output: recordingOutput() });
      expect(pushed!.blobs.skipped).toBeGreaterThanOrEqual(1);
    } finally {
      await close();
    }
    expect(await registryDigest(`${isolated.host}/shop/big:1.0`)).toBe(images.big.descriptor.digest);
  });

  it('install: exits REGISTRY_TIMEOUT naming the registry, changes no config, and completes after kill -CONT', async () => {
    const fixture = await makeFixture();
    const ref = 'registry.example.internal/shop/app1:1.0';
    const app1 = (await makeTestImages(join(fixture.dir, 'src', 'images-layout'))).app1;
    const bundle = await fixture.build((await fixture.manifest('shop.yaml')).replace('\nhooks:', `\nimages:\n  - { ref: ${ref}, ociLayout: images-layout, tag: app1 }\n\nhooks:`));
    const isolated = await registry();
    const site = await makeSite(fixture, { images: `{ registry: "${isolated.host}", insecure: true }` });
    const before = await configFiles(site);
    isolated.pause();
    const { value: result, ms } = await timed(runCli(['install', bundle, '--site', site.file, '--yes', '--json'], { env: { AIRLOCK_REGISTRY_TIMEOUTS: LIMITS } }));
    expect(result.code, result.stderr).toBe(exitCodeFor('REGISTRY_TIMEOUT'));
    expect(ms).toBeLessThan(BOUND_MS + 5000);
    expect(result.stderr).toContain(`waiting for registry ${isolated.host} to answer`);
    expect(result.stderr).toMatch(new RegExp(`REGISTRY_TIMEOUT: registry ${isolated.host.replace(/\./g, '\\.')} stopped answering: no answer to \\w+ /v2/shop/app1/\\S+ within 2 s \\(after \\d attempts, \\d+ s after the first stopped\\); no config file was changed`));
    // The waiting lines go to stderr: stdout stays one JSON document.
    expect(result.stdout).not.toContain('waiting for');
    expect(await configFiles(site)).toEqual(before);

    isolated.resume();
    const rerun = await install(bundle, site);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await registryDigest(`${isolated.host}/shop/app1:1.0`)).toBe(app1.descriptor.digest);
  });
});

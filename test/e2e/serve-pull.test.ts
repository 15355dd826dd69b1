/**
 * `airlock serve` of a signed bundle, pulled from by real clients: skopeo inspects and copies
 * every image by tag and by digest (one platform of a multi-arch index with --override-arch),
 * Debian's docker-registry runs as a pull-through cache in front of it, many clients download at
 * once with flat server memory, and SIGTERM lets a download in flight finish. Digests are checked
 * against the bundle's own index.json, read with GNU tar.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { registryDigest, registryRawManifest, sha256, skopeo } from '../support/images.js';
import { startRegistry } from '../support/registry.js';
import { makeServeFixture, servedAs, SHOP, type ServeFixture } from '../support/serve-fixture.js';
import { curl, startServe, type ServeProcess } from '../support/serve.js';

const BIG_LAYER = 24 * 1024 * 1024;
let fixture: ServeFixture;
let server: ServeProcess;
let work: string;

beforeAll(async () => {
  fixture = await makeServeFixture({ bigLayerSize: BIG_LAYER });
  server = await startServe([fixture.bundle, '--trust', fixture.fixture.trust]);
  work = await mkdtemp(join(tmpdir(), 'airlock-serve-pull-'));
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

/** A JSON file of the bundle, extracted by GNU tar (not by our code). */
async function bundleJson<T>(path: string): Promise<T> {
  return JSON.parse((await execa('tar', ['-xOf', fixture.bundle, path])).stdout) as T;
}

/** ref -> digest, as the bundle's index.json lists them. */
async function bundleIndex(): Promise<Record<string, string>> {
  const index = await bundleJson<{ manifests: Array<{ digest: string; annotations: Record<string, string> }> }>('index.json');
  return Object.fromEntries(index.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]));
}

async function ociDirDigest(dir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  expect(index.manifests).toHaveLength(1);
  return index.manifests[0]!.digest;
}

/** The largest layer of the "big" image. */
async function bigLayer(): Promise<{ digest: string; size: number }> {
  const manifest = await bundleJson<{ layers: Array<{ digest: string; size: number }> }>(`blobs/sha256/${fixture.images.big.descriptor.digest.slice(7)}`);
  return manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
}

describe('airlock serve <bundle>: pulls with skopeo', () => {
  it('serves every image of the bundle under its repository and tag, with the digests of the bundle', async () => {
    const index = await bundleIndex();
    expect(index).toEqual(fixture.refs);
    for (const [ref, digest] of Object.entries(index)) {
      const raw = await registryRawManifest(servedAs(server.host, ref));
      expect(sha256(raw), ref).toBe(digest);
    }
    const listed = server.listening.images as Array<{ ref: string; digest: string; served: string }>;
    expect(Object.fromEntries(listed.map((image) => [image.ref, image.digest]))).toEqual(index);
    expect(listed.find((image) => image.ref === 'docker.io/library/big:2')?.served).toBe(`${server.host}/library/big:2`);
  });

  it('skopeo copies each image by tag and by digest, getting the bundle digest both ways', async () => {
    const images = [`${SHOP}/app1:1.0`, `${SHOP}/app2:1.0`, `${SHOP}/multi:1.0`, 'docker.io/library/big:2'];
    for (const [i, ref] of images.entries()) {
      const served = servedAs(server.host, ref);
      const digest = fixture.refs[ref]!;
      expect(await registryDigest(served)).toBe(digest);
      const byTag = join(work, `tag-${i}`);
      await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${served}`, `oci:${byTag}:x`]);
      expect(await ociDirDigest(byTag)).toBe(digest);
      const byDigest = join(work, `digest-${i}`);
      await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${served.slice(0, served.lastIndexOf(':'))}@${digest}`, `oci:${byDigest}:x`]);
      expect(await ociDirDigest(byDigest)).toBe(digest);
    }
  });

  it('skopeo copies one platform of the multi-arch index with --override-arch, and gets that platform manifest', async () => {
    const served = servedAs(server.host, `${SHOP}/multi:1.0`);
    for (const [arch, variant, expected] of [
      ['arm64', 'v8', fixture.images.multiArm64.digest],
      ['amd64', undefined, fixture.images.multiAmd64.digest],
    ] as const) {
      const dir = join(work, `multi-${arch}`);
      await skopeo(['copy', '--override-os', 'linux', '--override-arch', arch, ...(variant ? ['--override-variant', variant] : []), '--src-tls-verify=false', `docker://${served}`, `oci:${dir}:x`]);
      expect(await ociDirDigest(dir)).toBe(expected);
      const inspected = JSON.parse(await skopeo(['inspect', '--override-arch', arch, '--tls-verify=false', `docker://${served}`])) as { Architecture: string };
      expect(inspected.Architecture).toBe(arch);
    }
  });

  it('works behind Debian docker-registry as a pull-through cache (proxy.remoteurl)', async () => {
    const cache = await startRegistry({ proxy: server.url });
    const before = server.requests().length;
    try {
      for (const ref of [`${SHOP}/app1:1.0`, `${SHOP}/multi:1.0`]) {
        const viaCache = servedAs(cache.host, ref);
        expect(await registryDigest(viaCache)).toBe(fixture.refs[ref]);
        const dir = join(work, `cache-${ref.split('/').at(-1)!.replace(':', '-')}`);
        await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${viaCache}`, `oci:${dir}:x`]);
        expect(await ociDirDigest(dir)).toBe(fixture.refs[ref]);
      }
      // The cache fetched what it served from airlock, blobs included.
      const proxied = server.requests().slice(before).map((line) => String(line.path));
      expect(proxied.filter((path) => path.startsWith('/v2/shop/app1/blobs/')).length).toBeGreaterThan(0);
      expect(proxied.filter((path) => path.startsWith('/v2/shop/multi/manifests/')).length).toBeGreaterThan(0);
    } finally {
      await cache.stop();
    }
  });

  it('logs one line per request: client, method, path, status, bytes, ms', async () => {
    const before = server.requests().length;
    const path = `/v2/shop/app1/manifests/1.0`;
    const got = await curl(`${server.url}${path}`);
    expect(got.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const line = server.requests().slice(before).find((entry) => entry.path === path);
    expect(line).toMatchObject({ event: 'request', client: '127.0.0.1', method: 'GET', path, status: 200, bytes: got.body.length });
    expect(typeof line!.ms).toBe('number');
    expect(typeof line!.time).toBe('string');
  });

  it('logs for people without --json: the banner, then "time client method path status bytes ms" lines', async () => {
    const text = await startServe([fixture.bundle, '--trust', fixture.fixture.trust], { text: true });
    try {
      await curl(`${text.url}/v2/shop/app1/tags/list`);
      await curl(`${text.url}/v2/shop/none/tags/list`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const out = text.stdoutText();
      expect(out).toContain(`Serving 8 image(s) read-only at ${text.url}:`);
      expect(out).toContain(`${SHOP}/app1:1.0`);
      expect(out).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 GET \/v2\/shop\/app1\/tags\/list 200 \d+ \d+ms$/m);
      expect(out).toMatch(/^\S+ 127\.0\.0\.1 GET \/v2\/shop\/none\/tags\/list 404 \d+ \d+ms$/m);
    } finally {
      expect(await text.stop('SIGINT')).toBe(0);
    }
    expect(text.stdoutText()).toContain('airlock serve: stopped');
  });

  it('sends manifests as stored: sha256 of the body is the Docker-Content-Digest', async () => {
    const got = await curl(`${server.url}/v2/shop/app2/manifests/1.0`, ['-H', 'Accept: application/vnd.oci.image.manifest.v1+json']);
    expect(`sha256:${createHash('sha256').update(got.body).digest('hex')}`).toBe(got.headers['docker-content-digest']);
    expect(got.headers['docker-content-digest']).toBe(fixture.images.app2.descriptor.digest);
  });
});

describe('airlock serve <bundle>: many clients, flat memory, graceful stop', () => {
  it('streams a large blob to 16 clients at once, each getting the right bytes, in flat memory', { timeout: 120_000 }, async () => {
    const layer = await bigLayer();
    expect(layer.size).toBeGreaterThan(BIG_LAYER);
    const url = `${server.url}/v2/library/big/blobs/${layer.digest}`;
    const peak = async () => Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${server.child.pid}/status`, 'utf8'))![1]) * 1024;
    const before = await peak();
    const sums = await Promise.all(
      Array.from({ length: 16 }, () => execa('bash', ['-c', 'set -o pipefail; curl -sf "$1" | sha256sum', 'fetch', url]).then((result) => result.stdout.split(' ')[0])),
    );
    expect(new Set(sums)).toEqual(new Set([layer.digest.slice(7)]));
    const after = await peak();
    // 16 × 24 MiB went out; holding even one copy per client would add 384 MiB. A few chunks per client is what streaming costs.
    expect(after - before).toBeLessThan(64 * 2 ** 20);
    expect(after).toBeLessThan(200 * 1e6);
  });

  it('finishes a download in flight on SIGTERM, refuses new connections, then exits 0', { timeout: 120_000 }, async () => {
    const stopping = await startServe([fixture.bundle, '--trust', fixture.fixture.trust]);
    const layer = await bigLayer();
    const url = `${stopping.url}/v2/library/big/blobs/${layer.digest}`;
    // About 3 s at 8 MB/s: the signal lands in the middle.
    const download = execa('bash', ['-c', 'set -o pipefail; curl -sf --limit-rate 8M "$1" | sha256sum', 'slow', url]);
    await new Promise((resolve) => setTimeout(resolve, 800));
    stopping.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await curl(`${stopping.url}/v2/`);
    expect(refused.curlCode).toBe(7); // could not connect
    expect((await download).stdout.split(' ')[0]).toBe(layer.digest.slice(7));
    expect(await stopping.exited).toBe(0);
    const events = stopping.lines().map((line) => line.event);
    expect(events.slice(-3)).toEqual(['stopping', 'request', 'stopped']);
    expect(stopping.requests().at(-1)).toMatchObject({ status: 200, bytes: layer.size });
    expect(stopping.lines().find((line) => line.event === 'stopping')).toMatchObject({ signal: 'SIGTERM', inFlight: 1 });
  });

  it('refuses to serve a bundle that does not verify against the trust store', async () => {
    const otherTrust = await mkdtemp(join(tmpdir(), 'airlock-serve-trust-'));
    const made = await runCli(['keys', 'generate', '--name', 'stranger', '--out', otherTrust], { env: { AIRLOCK_PASSPHRASE: 'x' } });
    expect(made.code).toBe(0);
    const result = await runCli(['serve', fixture.bundle, '--trust', otherTrust, '--listen', '127.0.0.1:0']);
    expect(result.code).toBe(exitCodeFor('SIGNATURE_UNTRUSTED'));
    expect(result.stderr).toContain('SIGNATURE_UNTRUSTED');
    expect(result.stdout).not.toContain('Serving');
  });

  it('names the address when it cannot listen there', async () => {
    const result = await runCli(['serve', fixture.bundle, '--trust', fixture.fixture.trust, '--listen', server.host]);
    expect(result.code).toBe(exitCodeFor('LISTEN_FAILED'));
    expect(result.stderr).toContain(`LISTEN_FAILED: --listen ${server.host}: the address is in use`);
  });
});


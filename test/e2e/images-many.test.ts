/**
 * Many images sharing bases (issue 14), through real CNCF distribution registries: pulled into a
 * bundle and pushed into an empty registry, each time through a TCP relay that counts the
 * connections open at once, so the connection bound is seen from the outside; the isolated
 * registry's access log shows each shared blob uploaded once and mounted everywhere else.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectImages, type CollectedImages } from '../../src/images/collect.js';
import { pushImages } from '../../src/images/push/push.js';
import { CONNECTIONS_VARIABLE, DEFAULT_CONNECTIONS, registryConnections } from '../../src/images/registry/connection-limit.js';
import { layer, LayoutBuilder, openBundle, recordingOutput, registryDigest, seed, sha256, writeImageBundle, type TestImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const IMAGES = 24;
const BASES = 3;
const BASE_LAYERS = 3;
const OWN_LAYERS = 2;

/** A relay to `port` on loopback that counts client connections open at once. */
async function countingRelay(port: number): Promise<{ host: string; peak(): number; close(): Promise<void> }> {
  let open = 0;
  let peak = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open++;
    peak = Math.max(peak, open);
    const remote = net.connect(port, '127.0.0.1');
    sockets.add(client).add(remote);
    client.pipe(remote).pipe(client);
    let closed = false;
    const end = () => {
      if (closed) return;
      closed = true;
      open--;
      client.destroy();
      remote.destroy();
      sockets.delete(client);
      sockets.delete(remote);
    };
    client.on('close', end).on('error', end);
    remote.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    host: `127.0.0.1:${address.port}`,
    peak: () => peak,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let dir: string;
let upstream: TestRegistry;
let isolated: TestRegistry;
let images: TestImage[];
let sharedLayers: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-many-'));
  const builder = new LayoutBuilder();
  const bases = Array.from({ length: BASES }, (_, b) => Array.from({ length: BASE_LAYERS }, (_, l) => layer({ [`base${b}/${l}`]: `base ${b} layer ${l}\n`.repeat(200) })));
  images = Array.from({ length: IMAGES }, (_, i) => {
    const own = Array.from({ length: OWN_LAYERS }, (_, l) => layer({ [`app${i}/${l}`]: `image ${i} layer ${l}\n` }));
    return builder.tag(`app${i}`, builder.image([...bases[i % BASES]!, ...own]));
  });
  sharedLayers = bases.flat().map((l) => sha256(l.gz));
  await builder.write(join(dir, 'layout'));
  [upstream, isolated] = await Promise.all([startRegistry(), startRegistry()]);
  for (let i = 0; i < IMAGES; i += 4) {
    await Promise.all(images.slice(i, i + 4).map((image) => seed(join(dir, 'layout'), image.tag, `${upstream.host}/many/${image.tag}:1`)));
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([upstream?.stop(), isolated?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  delete process.env[CONNECTIONS_VARIABLE];
});

async function pull(host: string, cache: string): Promise<CollectedImages> {
  return collectImages(
    images.map((image) => ({ ref: `${host}/many/${image.tag}:1`, insecure: true })),
    { manifestDir: dir, cacheDir: join(dir, cache), output: recordingOutput(), dockerConfig: null },
  );
}

describe('many images sharing bases', () => {
  it('the connection bound is a setting: default 8, AIRLOCK_REGISTRY_CONNECTIONS changes it, nonsense is refused', () => {
    expect(registryConnections({})).toBe(DEFAULT_CONNECTIONS);
    expect(DEFAULT_CONNECTIONS).toBe(8);
    expect(registryConnections({ [CONNECTIONS_VARIABLE]: '3' })).toBe(3);
    for (const bad of ['0', '-1', '2.5', 'many', '65']) expect(() => registryConnections({ [CONNECTIONS_VARIABLE]: bad })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('pulls and pushes every image within the connection bound, each shared blob uploaded once and mounted elsewhere', async () => {
    const pullRelay = await countingRelay(upstream.port);
    const pushRelay = await countingRelay(isolated.port);
    try {
      const collected = await pull(pullRelay.host, 'cache');
      expect(collected.images.map((image) => image.digest)).toEqual(images.map((image) => image.descriptor.digest));
      expect(pullRelay.peak()).toBeGreaterThan(1);
      expect(pullRelay.peak()).toBeLessThanOrEqual(DEFAULT_CONNECTIONS);

      const bundle = await writeImageBundle(join(dir, 'many.airlock'), collected.files);
      const logged = (await isolated.log()).length;
      const { source, close } = await openBundle(bundle);
      try {
        const pushed = await pushImages(source, collected.images, { kind: 'registry', registry: pushRelay.host, insecure: true }, { output: recordingOutput() });
        const uploaded = pushed.reduce((sum, p) => sum + p.blobs.transferred, 0);
        const mounted = pushed.reduce((sum, p) => sum + p.blobs.mounted, 0);
        // Each image's own layers and config once, each shared base layer once; the other uses of a base layer are mounts.
        expect(uploaded).toBe(IMAGES * (OWN_LAYERS + 1) + BASES * BASE_LAYERS);
        expect(mounted).toBe((IMAGES - BASES) * BASE_LAYERS);
      } finally {
        await close();
      }
      expect(pushRelay.peak()).toBeGreaterThan(1);
      expect(pushRelay.peak()).toBeLessThanOrEqual(DEFAULT_CONNECTIONS);

      // The registry's own account: one finished upload per unique blob, one mount per other use of a base layer.
      const log = (await isolated.log()).slice(logged);
      const uploads = log.match(/"PUT \/v2\/many\/app\d+\/blobs\/uploads\/\S*digest=sha256%3A([0-9a-f]{64})\S* HTTP\/1\.1" 201/g) ?? [];
      const uploadedDigests = uploads.map((line) => /sha256%3A([0-9a-f]{64})/.exec(line)![1]!);
      expect(uploadedDigests.length).toBe(new Set(uploadedDigests).size);
      for (const shared of sharedLayers) expect(uploadedDigests.filter((digest) => `sha256:${digest}` === shared)).toHaveLength(1);
      const mounts = log.match(/"POST \/v2\/many\/app\d+\/blobs\/uploads\/\?mount=\S+ HTTP\/1\.1" 201/g) ?? [];
      expect(mounts).toHaveLength((IMAGES - BASES) * BASE_LAYERS);

      for (const image of [images[0]!, images.at(-1)!]) expect(await registryDigest(`${isolated.host}/many/${image.tag}:1`)).toBe(image.descriptor.digest);
    } finally {
      await Promise.all([pullRelay.close(), pushRelay.close()]);
    }
  }, 120_000);

  it('holds a smaller bound given with AIRLOCK_REGISTRY_CONNECTIONS, and a second push sends nothing', async () => {
    process.env[CONNECTIONS_VARIABLE] = '2';
    const pullRelay = await countingRelay(upstream.port);
    const pushRelay = await countingRelay(isolated.port);
    try {
      const collected = await pull(pullRelay.host, 'cache-two');
      expect(pullRelay.peak()).toBeLessThanOrEqual(2);
      const bundle = await writeImageBundle(join(dir, 'many-two.airlock'), collected.files);
      const { source, close } = await openBundle(bundle);
      try {
        const pushed = await pushImages(source, collected.images, { kind: 'registry', registry: pushRelay.host, insecure: true }, { output: recordingOutput() });
        expect(pushed.every((p) => p.blobs.transferred === 0 && p.blobs.mounted === 0)).toBe(true);
      } finally {
        await close();
      }
      expect(pushRelay.peak()).toBe(2);
    } finally {
      await Promise.all([pullRelay.close(), pushRelay.close()]);
    }
  }, 120_000);
});

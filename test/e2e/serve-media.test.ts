/**
 * `airlock serve` straight from release media cut into small volumes (blobs split across two
 * volumes), and the media rotting under a running server: a byte flipped in a volume after the
 * start-up verification. The bad blob never reaches a client whole: the connection is cut short,
 * the log names the blob, and everything else is still served.
 */
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleReader, type BundleEntry } from '../../src/bundle/reader.js';
import { runCli } from '../support/cli.js';
import { registryDigest, sha256, skopeo } from '../support/images.js';
import { makeServeFixture, servedAs, SHOP, type ServeFixture } from '../support/serve-fixture.js';
import { curl, startServe, type ServeProcess } from '../support/serve.js';
import { flipByteAt } from '../support/tar-craft.js';

const VOLUME = 256 * 1024;
let fixture: ServeFixture;
let media: string;
let volumes: Array<{ file: string; start: number; size: number }>;
let entries: BundleEntry[];

beforeAll(async () => {
  fixture = await makeServeFixture({ bigLayerSize: 3 * 1024 * 1024 });
  media = join(fixture.fixture.dir, 'media');
  const written = await runCli(['media', 'write', fixture.bundle, '--to', media, '--volume-size', String(VOLUME), '--key', join(fixture.fixture.dir, 'keys', 'build.key.pem')], {
    env: fixture.fixture.env,
  });
  expect(written.code, written.stderr).toBe(0);
  const index = JSON.parse(await readFile(join(media, 'MEDIA.json'), 'utf8')) as { volumes: Array<{ file: string; start: number; size: number }> };
  volumes = index.volumes.map((volume) => ({ ...volume, file: join(media, volume.file) }));
  const reader = await BundleReader.open(fixture.bundle);
  entries = [...reader.entries];
  await reader.close();
}, 180_000);

function entryOf(digest: string): BundleEntry {
  return entries.find((entry) => entry.path === `blobs/sha256/${digest.slice(7)}`)!;
}

function volumeAt(offset: number): { file: string; within: number } {
  const volume = volumes.find((v) => offset >= v.start && offset < v.start + v.size)!;
  return { file: volume.file, within: offset - volume.start };
}

/** Flips one bit of the bundle as it lies on the media, in whichever volume holds it. */
async function rot(offset: number): Promise<void> {
  const { file, within } = volumeAt(offset);
  await flipByteAt(file, within);
}

describe('airlock serve <media dir>', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe([media, '--trust', fixture.fixture.trust]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves every image from the volumes with the bundle digests', async () => {
    expect(volumes.length).toBeGreaterThan(10);
    expect(server.listening.bundle).toBe(media);
    for (const ref of [`${SHOP}/app1:1.0`, `${SHOP}/app2:1.0`, `${SHOP}/multi:1.0`, 'docker.io/library/big:2']) {
      expect(await registryDigest(servedAs(server.host, ref)), ref).toBe(fixture.refs[ref]);
      const dir = join(fixture.fixture.dir, `from-media-${ref.split('/').at(-1)!.replace(':', '-')}`);
      await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${servedAs(server.host, ref)}`, `oci:${dir}:x`]);
      const copied = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      expect(copied.manifests[0]!.digest).toBe(fixture.refs[ref]);
    }
  });

  it('streams a blob that spans volumes as one run of bytes, whole and by a range across the cut', async () => {
    const spanning = entries.find((entry) => entry.path.startsWith('blobs/') && volumeAt(entry.dataOffset).file !== volumeAt(entry.dataOffset + entry.size - 1).file)!;
    expect(spanning).toBeDefined();
    const digest = `sha256:${spanning.path.slice('blobs/sha256/'.length)}`;
    const repository = digest === fixture.images.baseLayerDigest || fixture.images.big.blobs.includes(digest) ? 'library/big' : 'shop/app1';
    const whole = await curl(`${server.url}/v2/${repository}/blobs/${digest}`);
    expect(whole.status).toBe(200);
    expect(sha256(whole.body)).toBe(digest);
    const cut = volumes.find((v) => v.start > spanning.dataOffset && v.start < spanning.dataOffset + spanning.size)!.start - spanning.dataOffset;
    const part = await curl(`${server.url}/v2/${repository}/blobs/${digest}`, ['-H', `Range: bytes=${cut - 100}-${cut + 99}`]);
    expect(part.status).toBe(206);
    expect(part.body.equals(whole.body.subarray(cut - 100, cut + 100))).toBe(true);
  });
});

describe('a byte rotting on the media after verification', () => {
  let server: ServeProcess;
  let layer: { digest: string; size: number };
  beforeAll(async () => {
    server = await startServe([media, '--trust', fixture.fixture.trust]);
    const manifest = JSON.parse((await curl(`${server.url}/v2/library/big/manifests/2`)).body.toString()) as { layers: Array<{ digest: string; size: number }> };
    layer = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    expect(layer.size).toBeGreaterThan(3 * 1024 * 1024);
    // Verified at start; now the media changes under the running server.
    await rot(entryOf(layer.digest).dataOffset + Math.floor(layer.size / 2));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('cuts the connection short of the bad blob: the client never has it whole, and the log names it', async () => {
    const got = await curl(`${server.url}/v2/library/big/blobs/${layer.digest}`);
    expect(got.status).toBe(200);
    expect(Number(got.headers['content-length'])).toBe(layer.size);
    expect(got.curlCode).toBe(18); // transfer closed with outstanding read data remaining
    expect(got.body.length).toBeLessThan(layer.size);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.stderr()).toContain(`library/big@${layer.digest}`);
    expect(server.stderr()).toContain('does not match its digest');
    const fault = server.stderr().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'fault');
    expect(fault).toMatchObject({ repository: 'library/big', digest: layer.digest, code: 'IMAGE_INVALID' });
    const request = server.requests().find((line) => line.path === `/v2/library/big/blobs/${layer.digest}`);
    expect(request?.bytes).toBeLessThan(layer.size);
    expect(String(request?.failure)).toContain('does not match its digest');
  });

  it('sends none of it for a range (the whole blob is checked first), while HEAD still answers', async () => {
    const part = await curl(`${server.url}/v2/library/big/blobs/${layer.digest}`, ['-H', 'Range: bytes=0-99']);
    expect(part.status).toBe(0);
    expect(part.body.length).toBe(0);
    expect((await curl(`${server.url}/v2/library/big/blobs/${layer.digest}`, ['-I'])).status).toBe(200);
  });

  it('makes skopeo fail to copy the image, and serves every other image as before', async () => {
    const copy = await execa('skopeo', ['copy', '--src-tls-verify=false', `docker://${servedAs(server.host, 'docker.io/library/big:2')}`, `oci:${join(fixture.fixture.dir, 'rotten')}:x`], { reject: false });
    expect(copy.exitCode).not.toBe(0);
    const dir = join(fixture.fixture.dir, 'after-rot-app2');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${servedAs(server.host, `${SHOP}/app2:1.0`)}`, `oci:${dir}:x`]);
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests[0].digest).toBe(fixture.refs[`${SHOP}/app2:1.0`]);
  });

  it('does not send a manifest that rotted at all', async () => {
    const digest = fixture.refs[`${SHOP}/app2:1.0`]!;
    await rot(entryOf(digest).dataOffset + 10);
    const got = await curl(`${server.url}/v2/shop/app2/manifests/1.0`);
    expect(got.status).toBe(0);
    expect(got.body.length).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.stderr()).toContain(`shop/app2@${digest}`);
  });

  it('and a new start refuses the rotted media outright', async () => {
    const result = await runCli(['serve', media, '--trust', fixture.fixture.trust, '--listen', '127.0.0.1:0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/DIGEST_MISMATCH|VOLUME_CORRUPT/);
  });
});

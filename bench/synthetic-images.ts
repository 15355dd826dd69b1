/**
 * Synthetic benchmark images, written as an OCI image layout: issue 3's three images sharing one
 * base layer, each with an application layer of its own, or any images given layer by layer
 * (issue 12's delta releases). Layers are tars of one file whose bytes
 * are an AES-256-CTR keystream (deterministic, incompressible, written at GiB/s): the same call
 * always gives the same digests. Written streaming, like test/support/images.ts's LayoutBuilder
 * but without holding hundreds of MB in memory.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { join } from 'node:path';
import { Header } from 'tar';
import { MiB } from './units.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface SyntheticImages {
  layoutDir: string;
  /** Tags in the layout (`org.opencontainers.image.ref.name`), one per image. */
  tags: string[];
  /** Every blob of the layout (manifests, configs, layers), each once. */
  blobs: Descriptor[];
  uniqueBlobBytes: number;
  /** Bytes of each image (its manifest, config and layers). */
  imageBytes: number[];
}

const GENERATOR_VERSION = 3;
const SEED = 'airlock-bench-images';
const TAGS = ['app1', 'app2', 'app3'];
const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
const CHUNK = 4 * MiB;

function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', digest.slice(7));
}

function jsonBlob(layoutDir: string, mediaType: string, value: unknown): Descriptor {
  const data = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  writeFileSync(blobPath(layoutDir, digest), data);
  return { mediaType, digest, size: data.length };
}

/**
 * A layer: a gzipped tar holding one file of `size` keystream bytes (uid/gid 0, mtime 0, as
 * image builders reproduce them). Gzip because registries hold gzip layers and skopeo would
 * compress an uncompressed one on its way in, changing the digests; level 0 (stored blocks)
 * because keystream bytes do not compress and stored blocks are written at disk speed.
 */
async function layerBlob(layoutDir: string, name: string, size: number): Promise<Descriptor & { diffId: string }> {
  const diff = createHash('sha256');
  async function* tar(): AsyncGenerator<Buffer> {
    const header = Buffer.alloc(512);
    new Header({ path: `${name}/data`, type: 'File', size, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), uname: '', gname: '' }).encode(header, 0);
    const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(`${SEED}:${name}`).digest(), Buffer.alloc(16));
    const zeros = Buffer.alloc(CHUNK);
    const parts = function* (): Generator<Buffer> {
      yield header;
      for (let done = 0; done < size; done += CHUNK) yield cipher.update(zeros.subarray(0, Math.min(CHUNK, size - done)));
      yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
    };
    for (const part of parts()) {
      diff.update(part);
      yield part;
    }
  }
  const hash = createHash('sha256');
  let written = 0;
  const temp = join(layoutDir, 'blob.partial');
  await pipeline(
    Readable.from(tar()),
    createGzip({ level: 0 }),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        written += chunk.length;
        done(null, chunk);
      },
    }),
    createWriteStream(temp),
  );
  const digest = `sha256:${hash.digest('hex')}`;
  renameSync(temp, blobPath(layoutDir, digest));
  return { mediaType: LAYER_MEDIA_TYPE, digest, size: written, diffId: `sha256:${diff.digest('hex')}` };
}

/** One image of a synthetic layout: its tag and its layers, bottom up; layers of the same name are one blob, shared. */
export interface SyntheticImageSpec {
  tag: string;
  layers: Array<{ name: string; bytes: number }>;
}

/** Issue 3's images: three tags, each a shared base layer and an application layer of its own. */
export function ensureSyntheticImages(dir: string, options: { baseBytes: number; appBytes: number }, say: (line: string) => void): Promise<SyntheticImages> {
  return ensureSyntheticLayout(dir, TAGS.map((tag) => ({ tag, layers: [{ name: 'base', bytes: options.baseBytes }, { name: tag, bytes: options.appBytes }] })), say);
}

/** Writes the layout under dir, or reuses one an earlier `--keep` run left there. */
export async function ensureSyntheticLayout(dir: string, specs: readonly SyntheticImageSpec[], say: (line: string) => void): Promise<SyntheticImages> {
  const stampFile = join(dir, 'generated.json');
  const stamp = JSON.stringify({ version: GENERATOR_VERSION, seed: SEED, specs });
  const summaryFile = join(dir, 'summary.json');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(summaryFile)) {
    say(`reusing the synthetic images in ${dir}`);
    return JSON.parse(readFileSync(summaryFile, 'utf8')) as SyntheticImages;
  }
  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layers = new Map<string, Descriptor & { diffId: string }>();
  const blobs: Descriptor[] = [];
  const index: Array<Descriptor & { annotations: Record<string, string> }> = [];
  const imageBytes: number[] = [];
  for (const spec of specs) {
    const own: Array<Descriptor & { diffId: string }> = [];
    for (const { name, bytes } of spec.layers) {
      let made = layers.get(name);
      if (!made) {
        made = await layerBlob(dir, name, bytes);
        layers.set(name, made);
        blobs.push({ mediaType: made.mediaType, digest: made.digest, size: made.size });
      }
      own.push(made);
    }
    const config = jsonBlob(dir, 'application/vnd.oci.image.config.v1+json', {
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: [`/${spec.tag}/data`] },
      rootfs: { type: 'layers', diff_ids: own.map((layer) => layer.diffId) },
    });
    const manifest = jsonBlob(dir, 'application/vnd.oci.image.manifest.v1+json', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: own.map(({ diffId: _diffId, ...layer }) => layer),
    });
    blobs.push(config, manifest);
    index.push({ ...manifest, annotations: { 'org.opencontainers.image.ref.name': spec.tag } });
    imageBytes.push(own.reduce((sum, layer) => sum + layer.size, 0) + config.size + manifest.size);
  }
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: index }));
  const images: SyntheticImages = { layoutDir: dir, tags: specs.map((spec) => spec.tag), blobs, uniqueBlobBytes: blobs.reduce((sum, blob) => sum + blob.size, 0), imageBytes };
  writeFileSync(summaryFile, JSON.stringify(images));
  writeFileSync(stampFile, stamp);
  say(`wrote the synthetic images (${specs.length} images, ${(images.uniqueBlobBytes / MiB).toFixed(0)} MiB of unique blobs) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return images;
}

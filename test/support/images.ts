/**
 * Small deterministic OCI test images, written as an OCI image layout by hand (so tests do not
 * depend on the code under test) and seeded into registries with skopeo. The same call always
 * produces the same bytes, hence the same digests.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/write.js';
import type { PayloadFile } from '../../src/bundle/payload.js';
import { bundleBlobSource, type BlobSource } from '../../src/images/push/push.js';
import type { Output } from '../../src/ui/output.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface TestImage {
  tag: string;
  /** The manifest or index, as index.json lists it. */
  descriptor: Descriptor;
  /** Digests of every blob the image needs (manifests, configs, layers). */
  blobs: string[];
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Incompressible but reproducible bytes (a SHA-256 counter stream), so layer sizes are what they say. */
export function noise(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, block = 0; offset < size; block++) {
    const chunk = createHash('sha256').update(`${seed}:${block}`).digest();
    offset += chunk.copy(out, offset);
  }
  return out;
}

/** A deterministic tar (sorted names, uid/gid 0, mtime 0, mode 0644) of the given files. */
export function tarOf(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const path of Object.keys(files).sort()) {
    const data = Buffer.from(files[path]!);
    const header = Buffer.alloc(512);
    new Header({ path, type: 'File', size: data.length, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), uname: '', gname: '' }).encode(header, 0);
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface Layer {
  tar: Buffer;
  gz: Buffer;
}

export function layer(files: Record<string, string | Buffer>): Layer {
  const tar = tarOf(files);
  return { tar, gz: gzipSync(tar, { level: 1 }) };
}

/** Builds an OCI image layout in memory and writes it out. */
export class LayoutBuilder {
  private readonly blobs = new Map<string, Buffer>();
  private readonly tags: Array<{ tag: string; descriptor: Descriptor }> = [];
  private readonly untaggedEntries: Descriptor[] = [];

  blob(data: Buffer, mediaType: string): Descriptor {
    const digest = sha256(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  }

  image(layers: Layer[], platform: { os: string; architecture: string; variant?: string } = { os: 'linux', architecture: 'amd64' }): Descriptor {
    const config = Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Cmd: ['/bin/true'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) },
      }),
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: this.blob(config, 'application/vnd.oci.image.config.v1+json'),
      layers: layers.map((l) => this.blob(l.gz, 'application/vnd.oci.image.layer.v1.tar+gzip')),
    };
    return { ...this.blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType), platform };
  }

  index(manifests: Descriptor[]): Descriptor {
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    return this.blob(Buffer.from(JSON.stringify(index)), index.mediaType);
  }

  /**
   * An OCI 1.1 artifact attached to `subject` (a signature, an SBOM): a manifest with `subject`,
   * one layer holding `payload`, and either an `artifactType` over the empty config or, without
   * one, a config of its own type (the referrers API then reports that type).
   */
  artifact(subject: Descriptor, options: { artifactType?: string; configMediaType?: string; payload: string; payloadType: string; annotations?: Record<string, string> }): Descriptor {
    const config =
      options.artifactType !== undefined
        ? this.blob(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json')
        : this.blob(Buffer.from(JSON.stringify({ kind: options.configMediaType })), options.configMediaType ?? 'application/vnd.example.config.v1+json');
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...(options.artifactType !== undefined ? { artifactType: options.artifactType } : {}),
      config,
      layers: [this.blob(Buffer.from(options.payload), options.payloadType)],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    };
    return this.blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  }

  /** An index.json entry without a ref.name (as tools list attached artifacts). */
  untagged(descriptor: Descriptor): void {
    this.untaggedEntries.push(descriptor);
  }

  tag(tag: string, descriptor: Descriptor): TestImage {
    const { platform: _platform, ...plain } = descriptor;
    this.tags.push({ tag, descriptor: plain });
    return { tag, descriptor: plain, blobs: this.reachable(plain.digest) };
  }

  async write(dir: string): Promise<void> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    for (const [digest, data] of this.blobs) await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
    const manifests = [...this.tags.map(({ tag, descriptor }) => ({ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } })), ...this.untaggedEntries];
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  }

  private reachable(digest: string): string[] {
    const found = new Set<string>([digest]);
    const document = JSON.parse(this.blobs.get(digest)!.toString()) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    for (const child of document.manifests ?? []) for (const d of this.reachable(child.digest)) found.add(d);
    for (const blob of [...(document.config ? [document.config] : []), ...(document.layers ?? [])]) found.add(blob.digest);
    return [...found];
  }
}

export interface TestImages {
  layoutDir: string;
  /** Two layers; shares its base layer with app2. */
  app1: TestImage;
  app2: TestImage;
  /** An index of linux/amd64 and linux/arm64/v8 images. */
  multi: TestImage;
  multiAmd64: Descriptor;
  multiArm64: Descriptor;
  /** One image of several layers, one of them `bigLayerSize` bytes (for chunked uploads and interrupted pushes). */
  big: TestImage;
  baseLayerDigest: string;
}

export async function makeTestImages(
  layoutDir: string,
  options: { bigLayerSize?: number; /** Adds more to the layout (artifacts, tags) before it is written. */ extend?: (builder: LayoutBuilder, images: TestImages) => void } = {},
): Promise<TestImages> {
  const builder = new LayoutBuilder();
  const base = layer({ 'etc/os-release': 'NAME=airlock-test\n', 'bin/base': noise('base', 64 * 1024) });
  const app1 = builder.tag('app1', builder.image([base, layer({ 'app/one.txt': 'one\n', 'app/data': noise('app1', 32 * 1024) })]));
  const app2 = builder.tag('app2', builder.image([base, layer({ 'app/two.txt': 'two\n', 'app/data': noise('app2', 48 * 1024) })]));
  const multiAmd64 = builder.image([base, layer({ 'arch.txt': 'amd64\n' })], { os: 'linux', architecture: 'amd64' });
  const multiArm64 = builder.image([layer({ 'arch.txt': 'arm64\n', 'bin/base': noise('arm', 16 * 1024) })], { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const multi = builder.tag('multi', builder.index([multiAmd64, multiArm64]));
  const bigLayers = [base, layer({ 'big/data': noise('big', options.bigLayerSize ?? 3 * 1024 * 1024) })];
  for (let i = 0; i < 4; i++) bigLayers.push(layer({ [`extra/${i}`]: noise(`extra${i}`, 128 * 1024) }));
  const big = builder.tag('big', builder.image(bigLayers));
  const images = { layoutDir, app1, app2, multi, multiAmd64, multiArm64, big, baseLayerDigest: sha256(base.gz) };
  options.extend?.(builder, images);
  await builder.write(layoutDir);
  return images;
}

export async function skopeo(args: string[]): Promise<string> {
  const { stdout } = await execa('skopeo', args);
  return stdout;
}

/** Copies an image (all platforms of an index) from the layout into a registry over plain HTTP. */
export async function seed(layoutDir: string, tag: string, destination: string, options: { creds?: string } = {}): Promise<void> {
  await skopeo([
    'copy',
    '--all',
    '--dest-tls-verify=false',
    ...(options.creds ? ['--dest-creds', options.creds] : []),
    `oci:${layoutDir}:${tag}`,
    `docker://${destination}`,
  ]);
}

/** The digest a registry serves for a reference, as skopeo sees it. */
export async function registryDigest(reference: string, options: { creds?: string } = {}): Promise<string> {
  return (await skopeo(['inspect', '--tls-verify=false', ...(options.creds ? ['--creds', options.creds] : []), '--format', '{{.Digest}}', `docker://${reference}`])).trim();
}

/** The raw manifest bytes a registry serves, via skopeo. */
export async function registryRawManifest(reference: string, options: { creds?: string } = {}): Promise<Buffer> {
  const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', ...(options.creds ? ['--creds', options.creds] : []), '--raw', `docker://${reference}`], {
    encoding: 'buffer',
    stripFinalNewline: false,
  });
  return Buffer.from(stdout);
}

/** An Output that keeps what it was told (debug included), for assertions and failure messages. */
export function recordingOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return {
    json: false,
    verbose: true,
    lines,
    say: (line) => lines.push(line),
    warn: (line) => lines.push(`warn: ${line}`),
    debug: (line) => lines.push(`debug: ${line}`),
    result: (value) => lines.push(JSON.stringify(value)),
  };
}

/** A bundle holding just the collected image files (unsigned: signing is not what these tests are about). */
export async function writeImageBundle(file: string, files: PayloadFile[]): Promise<string> {
  await writeBundle({ file, manifest: Buffer.from('{}\n'), payload: files, signers: [], mtime: new Date(0) });
  return file;
}

/** Blobs read straight from a bundle file, as the installer reads them. */
export async function openBundle(file: string): Promise<{ source: BlobSource; close: () => Promise<void> }> {
  const reader = await BundleReader.open(file);
  return { source: bundleBlobSource(reader), close: () => reader.close() };
}

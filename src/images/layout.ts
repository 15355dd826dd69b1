/**
 * An OCI image layout directory (oci-layout, index.json, blobs/sha256/<hex>): the build's blob
 * cache and the installer's embedded image target. Blobs are written to ingest/ first, checked
 * against their digest and size as they stream, and only then renamed into place, so a file
 * under blobs/ is always whole and correct when written. index.json is replaced atomically.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { comparePaths } from '../bundle/format.js';
import { digestHex, HashingStream, VerifyingStream, sha256Digest, verifyBytes, type Expected } from '../oci/digest.js';
import { OCI_INDEX } from '../oci/media-types.js';
import { imageIndexSchema, type Descriptor } from '../oci/schema.js';
import { parseJson } from '../base/validate.js';
import { fileFault, onFile, pathFault } from '../fs/file-fault.js';
import { fsyncPath } from '../fs/fsync-path.js';
import { writeAll } from '../fs/write-all.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
/** On an attached artifact's entry: the ref of the image it is attached to (docs/IMAGES.md). */
export const ATTACHED_TO = 'dev.airlock.attached.to';
export const OCI_LAYOUT_BYTES = Buffer.from('{"imageLayoutVersion":"1.0.0"}', 'utf8');
const READ_CHUNK = 1024 * 1024;

const layoutFileSchema = z.looseObject({ imageLayoutVersion: z.literal('1.0.0') });

/** A top-level entry of a layout: the descriptor index.json lists, tagged by ref.name ('' for none), with any other annotations. */
export interface TaggedImage {
  ref: string;
  descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  annotations?: Record<string, string>;
}

/** Which entries are the same one: a tagged entry by its ref, an attached artifact by its digest and image. */
function entryKey(entry: TaggedImage): string | undefined {
  if (entry.ref !== '') return `ref ${entry.ref}`;
  const to = entry.annotations?.[ATTACHED_TO];
  return to === undefined ? undefined : `${entry.descriptor.digest} ${to}`;
}

/**
 * index.json in one fixed form: sorted by ref (byte-wise), keys in a fixed order, so the same
 * images always give the same bytes.
 */
export function renderIndex(images: readonly TaggedImage[]): Buffer {
  const sorted = [...images].sort(
    (a, b) => comparePaths(a.ref, b.ref) || comparePaths(a.descriptor.digest, b.descriptor.digest) || comparePaths(a.annotations?.[ATTACHED_TO] ?? '', b.annotations?.[ATTACHED_TO] ?? ''),
  );
  const manifests = sorted.map(({ ref, descriptor, annotations }) => ({
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    annotations: { ...(ref === '' ? {} : { [REF_NAME]: ref }), ...sortedRecord(annotations ?? {}) },
  }));
  return Buffer.from(`${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, null, 2)}\n`, 'utf8');
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => comparePaths(a, b)));
}

async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export class OciLayout {
  /** Blobs known good in this process: written and checked here, or re-hashed once. */
  private readonly verified = new Set<string>();

  private constructor(
    readonly dir: string,
    /** fsync blobs and index.json (an install target must survive a crash; a cache can be refilled). */
    private readonly durable: boolean,
  ) {}

  /** Opens a layout; with `create`, makes the directory, oci-layout and an empty index.json when missing. */
  static async open(dir: string, options: { create: boolean; durable?: boolean }): Promise<OciLayout> {
    const layout = new OciLayout(dir, options.durable === true);
    const marker = join(dir, 'oci-layout');
    let text: Buffer | undefined;
    try {
      text = await readFile(marker);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
      if (!options.create) throw new AirlockError('INPUT_NOT_FOUND', `${dir}: not an OCI image layout (no oci-layout file)`);
    }
    if (text) parseJson(layoutFileSchema, text, marker, 'IMAGE_INVALID');
    await onFile(join(dir, 'blobs', 'sha256'), () => mkdir(join(dir, 'blobs', 'sha256'), { recursive: true }));
    if (!text) {
      await layout.replaceFile('oci-layout', OCI_LAYOUT_BYTES);
      try {
        await stat(join(dir, 'index.json'));
      } catch {
        await layout.writeIndex([]);
      }
    }
    return layout;
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  /**
   * Whether the blob is present and whole. With `verify`, a blob not yet checked in this process is
   * re-hashed, and a bad one is removed so it is fetched again.
   */
  async hasBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>, verify: boolean): Promise<boolean> {
    const path = this.blobPath(descriptor.digest);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return false;
    }
    if (size === descriptor.size && (!verify || this.verified.has(descriptor.digest))) return true;
    if (size === descriptor.size && (await hashFile(path)).digest === descriptor.digest) {
      this.verified.add(descriptor.digest);
      return true;
    }
    await rm(path, { force: true });
    return false;
  }

  /** Streams a blob in, checking digest and size on the way; nothing appears under blobs/ unless it matched. */
  async writeBlob(expected: Expected, source: Readable, onBytes?: (bytes: number) => void): Promise<void> {
    await this.ingest(source, new VerifyingStream(expected, onBytes));
  }

  /** Streams in bytes whose digest is not known yet (a docker archive's members); returns what they hash to. */
  ingestUnknown(source: Readable): Promise<{ digest: string; size: number }> {
    return this.ingest(source, new HashingStream());
  }

  /** Small blobs (manifests, configs) whose bytes are in memory. */
  async writeBytes(data: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(data);
    if (!(await this.hasBlob({ digest, size: data.length }, true))) await this.replaceFile(join('blobs', 'sha256', digestHex(digest)), data);
    this.verified.add(digest);
    return { digest, size: data.length };
  }

  openBlob(digest: string): ReadStream {
    return createReadStream(this.blobPath(digest), { highWaterMark: READ_CHUNK });
  }

  /** A small blob read whole and checked (manifests and configs), refused beyond `limit`. */
  async readBlob(descriptor: Expected, limit: number): Promise<Buffer> {
    if (descriptor.size > limit) throw new AirlockError('IMAGE_INVALID', `${descriptor.what}: ${descriptor.digest} is ${descriptor.size} bytes, more than the ${limit} allowed for a manifest or config`);
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(descriptor.digest));
    } catch {
      throw new AirlockError('IMAGE_INVALID', `${descriptor.what}: blob ${descriptor.digest} is missing from ${this.dir}`);
    }
    verifyBytes(data, descriptor);
    return data;
  }

  async readIndex(): Promise<TaggedImage[]> {
    const file = join(this.dir, 'index.json');
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      throw new AirlockError('INPUT_NOT_FOUND', `${this.dir}: OCI layout has no index.json`);
    }
    return parseJson(imageIndexSchema, data, file, 'IMAGE_INVALID').manifests.map((descriptor) => {
      const { [REF_NAME]: ref, ...annotations } = descriptor.annotations ?? {};
      return {
        ref: ref ?? '',
        descriptor: { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size },
        ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      };
    });
  }

  /** Replaces index.json atomically (temp, fsync, rename, fsync of the directory). */
  async writeIndex(images: readonly TaggedImage[]): Promise<void> {
    await this.replaceFile('index.json', renderIndex(images));
  }

  /**
   * Adds or retags images and their attached artifacts: an entry with the same ref (an attached
   * artifact: the same digest for the same image) is replaced; untagged entries of other tools are kept.
   */
  async tagImages(images: readonly TaggedImage[]): Promise<void> {
    const keys = new Set(images.map(entryKey));
    const kept = (await this.readIndex()).filter((image) => {
      const key = entryKey(image);
      return key === undefined || !keys.has(key);
    });
    await this.writeIndex([...kept, ...images]);
  }

  /** fsyncs blobs/sha256 so renames made there survive a crash (durable layouts only). */
  async syncBlobs(): Promise<void> {
    if (this.durable) await fsyncPath(join(this.dir, 'blobs', 'sha256'));
  }

  private async ingest(source: Readable, hasher: HashingStream): Promise<{ digest: string; size: number }> {
    const ingestDir = join(this.dir, 'ingest');
    await onFile(ingestDir, () => mkdir(ingestDir, { recursive: true }));
    const temp = join(ingestDir, `${randomBytes(8).toString('hex')}.partial`);
    try {
      await pipeline(source, hasher, createWriteStream(temp, { flags: 'wx', highWaterMark: READ_CHUNK }));
      if (this.durable) await fsyncPath(temp);
      const digest = hasher.digest();
      await rename(temp, this.blobPath(digest));
      this.verified.add(digest);
      return { digest, size: hasher.size };
    } catch (error) {
      await rm(temp, { force: true });
      // A source file's own fault names that file; a write's names the blob being written here.
      throw pathFault(error) ?? fileFault(error, temp);
    }
  }

  private async replaceFile(relative: string, data: Buffer): Promise<void> {
    const target = join(this.dir, relative);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await onFile(target, async () => {
      const handle = await open(temp, 'wx');
      try {
        await writeAll(handle, data);
        if (this.durable) await handle.sync();
        await handle.close();
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(temp, { force: true });
        throw error;
      }
      await rename(temp, target);
    });
    if (this.durable) await fsyncPath(join(target, '..'));
  }
}


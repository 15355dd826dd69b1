/**
 * An image from a `docker save` archive, converted to OCI. One streaming pass copies every
 * member into the blob cache under its digest (the archive lists its manifest last, so nothing
 * is known in advance); then manifest.json picks the image and its layers. Layer bytes are kept
 * exactly as stored (usually uncompressed tar, media type ...layer.v1.tar): no recompression, so
 * the conversion is fast and the same archive always gives the same digests.
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { list } from 'tar';
import { z } from 'zod';
import { AirlockError } from '../../base/errors.js';
import type { OciLayout } from '../layout.js';
import { OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST } from '../../oci/media-types.js';
import type { Descriptor } from '../../oci/schema.js';
import { parseJson } from '../../base/validate.js';
import { MANIFEST_LIMIT } from '../registry/manifests.js';
import { formatReference, parseReference } from '../../oci/reference.js';
import type { ImageSource } from './source.js';

const archiveManifestSchema = z
  .array(
    z.looseObject({
      Config: z.string().min(1),
      RepoTags: z.array(z.string()).nullable().optional(),
      Layers: z.array(z.string().min(1)),
    }),
  )
  .min(1);

const configLayersSchema = z.looseObject({
  rootfs: z.looseObject({ diff_ids: z.array(z.string()) }),
});

interface Member {
  digest: string;
  size: number;
}

const MAX_LINK_HOPS = 8;

function memberPath(path: string): string {
  return posix.normalize(path).replace(/^(\.\/)+/, '').replace(/\/$/, '');
}

function sameImage(a: string, b: string): boolean {
  try {
    const left = parseReference(a);
    const right = parseReference(b);
    return formatReference({ ...left, digest: undefined }) === formatReference({ ...right, digest: undefined });
  } catch {
    return false;
  }
}

async function layerMediaType(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return OCI_LAYER_GZIP;
    if (bytesRead === 4 && buffer.readUInt32LE(0) === 0xfd2fb528) return OCI_LAYER_ZSTD;
    return OCI_LAYER;
  } finally {
    await handle.close();
  }
}

export class DockerArchiveSource implements ImageSource {
  private constructor(
    readonly what: string,
    private readonly cache: OciLayout,
    private readonly manifestBytes: Buffer,
  ) {}

  static async load(file: string, ref: string, cache: OciLayout): Promise<DockerArchiveSource> {
    const what = `${ref} (docker archive ${file})`;
    const { members, links } = await ingestArchive(file, cache, what);
    const resolve = (name: string): Member => {
      let path = memberPath(name);
      for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
        const member = members.get(path);
        if (member) return member;
        const target = links.get(path);
        if (target === undefined) break;
        path = target;
      }
      throw new AirlockError('IMAGE_INVALID', `${what}: the archive lists ${name}, which it does not contain`);
    };

    if (!members.has('manifest.json')) {
      throw new AirlockError('IMAGE_INVALID', `${what}: ${members.size === 0 ? 'not a tar archive' : 'no manifest.json: not a docker save archive'}`);
    }
    const index = parseJson(archiveManifestSchema, await cache.readBlob({ ...resolve('manifest.json'), what }, MANIFEST_LIMIT), `${what}: manifest.json`, 'IMAGE_INVALID');
    const matching = index.filter((image) => (image.RepoTags ?? []).some((tag) => sameImage(tag, ref)));
    const image = matching[0] ?? (index.length === 1 ? index[0] : undefined);
    if (!image) {
      const tags = index.flatMap((entry) => entry.RepoTags ?? []).join(', ') || 'no tags';
      throw new AirlockError('IMAGE_NOT_FOUND', `${what}: the archive holds ${index.length} images and none is tagged ${ref} (${tags})`);
    }

    const config = resolve(image.Config);
    const configBytes = await cache.readBlob({ ...config, what: `${what}: config` }, MANIFEST_LIMIT);
    const diffIds = parseJson(configLayersSchema, configBytes, `${what}: config ${image.Config}`, 'IMAGE_INVALID').rootfs.diff_ids;
    if (diffIds.length !== image.Layers.length) {
      throw new AirlockError('IMAGE_INVALID', `${what}: config lists ${diffIds.length} layers, manifest.json ${image.Layers.length}`);
    }
    const layers: Descriptor[] = [];
    for (const [i, name] of image.Layers.entries()) {
      const layer = resolve(name);
      const mediaType = await layerMediaType(cache.blobPath(layer.digest));
      // An uncompressed layer is its own diff: its digest must be the one the config promises.
      if (mediaType === OCI_LAYER && layer.digest !== diffIds[i]) {
        throw new AirlockError('IMAGE_INVALID', `${what}: layer ${name} hashes to ${layer.digest}, but the config names ${diffIds[i]}`);
      }
      layers.push({ mediaType, digest: layer.digest, size: layer.size });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest), 'utf8');
    await cache.writeBytes(bytes);
    return new DockerArchiveSource(what, cache, bytes);
  }

  async root(): Promise<{ bytes: Buffer; contentType?: string }> {
    return { bytes: this.manifestBytes, contentType: OCI_MANIFEST };
  }

  manifest(descriptor: Descriptor): Promise<Buffer> {
    return this.cache.readBlob({ ...descriptor, what: this.what }, MANIFEST_LIMIT);
  }

  async blob(descriptor: Descriptor): Promise<Readable> {
    return this.cache.openBlob(descriptor.digest);
  }

  /** `docker save` keeps nothing attached to an image. */
  async referrers(): Promise<Descriptor[] | undefined> {
    return [];
  }

  async tagged(): Promise<undefined> {
    return undefined;
  }

  retrying<T>(run: () => Promise<T>): Promise<T> {
    return run();
  }
}

/** Copies every regular member into the cache (one pass, flat memory) and notes links for later lookup. */
async function ingestArchive(file: string, cache: OciLayout, what: string): Promise<{ members: Map<string, Member>; links: Map<string, string> }> {
  const members = new Map<string, Member>();
  const links = new Map<string, string>();
  const copies: Promise<void>[] = [];
  let failure: unknown;
  try {
    await list({
      file,
      strict: true,
      noResume: true,
      onReadEntry: (entry) => {
        const path = memberPath(entry.path);
        if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
          copies.push(
            cache.ingestUnknown(Readable.from(entry)).then(
              (member) => void members.set(path, member),
              (error: unknown) => {
                failure ??= error;
                // Keep the parser moving so the pass ends and the error can be reported.
                entry.resume();
              },
            ),
          );
          return;
        }
        if ((entry.type === 'SymbolicLink' || entry.type === 'Link') && entry.linkpath) {
          const target = entry.type === 'SymbolicLink' ? posix.join(posix.dirname(path), entry.linkpath) : entry.linkpath;
          links.set(path, memberPath(target));
        }
        entry.resume();
      },
    });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AirlockError('INPUT_NOT_FOUND', `${what}: file not found`, { cause });
    throw new AirlockError('IMAGE_INVALID', `${what}: not a readable tar archive (${(cause as Error).message})`, { cause });
  }
  await Promise.all(copies);
  if (failure) throw failure;
  return { members, links };
}

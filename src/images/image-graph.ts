/**
 * Walks one image from its top-level manifest or index down to its blobs: applies the platform
 * selection, checks every manifest against its descriptor and stores it in the cache, and lists
 * the blobs (configs, layers) still to be transferred.
 */
import { AirlockError } from '../base/errors.js';
import { verifyBytes, sha256Digest } from '../oci/digest.js';
import type { OciLayout } from './layout.js';
import { choosePlatforms, indexPlatforms, platformSelected, subsetIndex } from '../oci/platform.js';
import { childrenOf, formatPlatform, imageConfigSchema, parseManifest, type Descriptor, type ParsedManifest } from '../oci/schema.js';
import { parseJson } from '../base/validate.js';
import { MANIFEST_LIMIT } from './registry/manifests.js';
import type { ImageSource } from './sources/source.js';

export interface ResolvedImage {
  /** The top-level manifest or index as recorded in index.json and airlock.json. */
  descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  platforms: string[];
  /** Every blob the image needs, each once: its manifests (stored in the cache already), configs and layers. */
  contents: Descriptor[];
  /** The configs and layers among them, to be copied into the cache. */
  blobs: Descriptor[];
  /** Bytes of every blob the image needs, its manifests included. */
  size: number;
  /** The top-level document as published (in the cache too); differs from `descriptor` when platforms were selected. */
  published: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
}

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** `attestations`: keep buildx's attestation manifests of the platforms kept (see choosePlatforms). */
export async function resolveImage(source: ImageSource, cache: OciLayout, wanted: readonly string[] | undefined, attestations = false): Promise<ResolvedImage> {
  const what = source.what;
  const root = await source.root();
  let bytes = root.bytes;
  let parsed = parseManifest(bytes, root.contentType, what);
  const published = { mediaType: parsed.mediaType, ...(await cache.writeBytes(bytes)) };
  let platforms: string[] = [];
  let checkConfigPlatform = parsed.kind === 'manifest';

  if (parsed.kind === 'index') {
    const choice = choosePlatforms(parsed.index, wanted, what, attestations);
    if (choice.kind === 'one') {
      bytes = await source.manifest(choice.descriptor);
      verifyBytes(bytes, { ...choice.descriptor, what });
      parsed = parseManifest(bytes, choice.descriptor.mediaType, what);
      await cache.writeBytes(bytes);
      platforms = choice.descriptor.platform ? [formatPlatform(choice.descriptor.platform)] : [];
      checkConfigPlatform = false;
    } else if (choice.kind === 'subset') {
      bytes = subsetIndex(bytes, choice.positions);
      parsed = parseManifest(bytes, parsed.mediaType, what);
      await cache.writeBytes(bytes);
    }
  }

  const descriptor = { mediaType: parsed.mediaType, digest: sha256Digest(bytes), size: bytes.length };
  const seen = new Map<string, Descriptor>([[descriptor.digest, descriptor as Descriptor]]);
  const blobs = new Map<string, Descriptor>();

  const walk = async (current: ParsedManifest): Promise<void> => {
    if (current.kind === 'index' && platforms.length === 0) platforms = indexPlatforms(current.index);
    const children = childrenOf(current);
    for (const blob of children.blobs) {
      if (seen.has(blob.digest)) continue;
      seen.set(blob.digest, blob);
      blobs.set(blob.digest, blob);
    }
    for (const child of children.manifests) {
      if (seen.has(child.digest)) continue;
      seen.set(child.digest, child);
      const childBytes = await source.manifest(child);
      verifyBytes(childBytes, { ...child, what });
      await cache.writeBytes(childBytes);
      await walk(parseManifest(childBytes, child.mediaType, what));
    }
  };
  await walk(parsed);

  if (checkConfigPlatform && parsed.kind === 'manifest' && IMAGE_CONFIG_TYPES.has(parsed.manifest.config.mediaType)) {
    const config = parsed.manifest.config;
    const configBytes = await readSmall(source, config, cache);
    blobs.delete(config.digest);
    const platform = formatPlatform(parseJson(imageConfigSchema, configBytes, `${what}: config ${config.digest}`, 'IMAGE_INVALID'));
    if (!platformSelected(platform, wanted)) {
      throw new AirlockError('IMAGE_NOT_FOUND', `${what}: the image is ${platform} only, not ${wanted!.join(', ')}`);
    }
    platforms = [platform];
  }

  const contents = [...seen.values()];
  return { descriptor, platforms, contents, blobs: [...blobs.values()], size: contents.reduce((sum, d) => sum + d.size, 0), published };
}

/** A config is needed before the layers (for its platform): fetched whole, checked, and cached like any blob. */
async function readSmall(source: ImageSource, descriptor: Descriptor, cache: OciLayout): Promise<Buffer> {
  const expected = { ...descriptor, what: source.what };
  if (!(await cache.hasBlob(descriptor, true))) {
    if (descriptor.size > MANIFEST_LIMIT) throw new AirlockError('IMAGE_INVALID', `${source.what}: config ${descriptor.digest} is larger than ${MANIFEST_LIMIT} bytes`);
    await source.retrying(async () => cache.writeBlob(expected, await source.blob(descriptor)));
  }
  return cache.readBlob(expected, MANIFEST_LIMIT);
}

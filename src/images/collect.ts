/**
 * Images into the bundle: every spec (registry ref, local OCI layout or docker archive) is
 * resolved to a pinned digest, its blobs land once each in the content-addressed cache, and
 * the bundle gets an OCI image layout (oci-layout, index.json, blobs/sha256/...) whose files
 * point into the cache. This is the API the build orchestrator calls.
 */
import { resolve } from 'node:path';
import { AirlockError } from '../base/errors.js';
import { BLOBS_DIR, FILE_MODE, OCI_INDEX_PATH, OCI_LAYOUT_PATH, comparePaths } from '../bundle/format.js';
import { bytesPayload, type PayloadFile } from '../bundle/payload.js';
import type { BundleImage } from '../manifest/bundle-manifest.js';
import type { Output } from '../ui/output.js';
import { resolveImage, type ResolvedImage } from './image-graph.js';
import type { ImageSpec } from '../manifest/release-images.js';
import { digestHex } from '../oci/digest.js';
import { OCI_LAYOUT_BYTES, OciLayout, renderIndex, type TaggedImage } from './layout.js';
import { attachedEntries, collectAttached, type AttachedArtifacts } from './attached.js';
import type { Descriptor } from '../oci/schema.js';
import { allSettledFirst, forEachLimit } from '../base/parallel.js';
import { byteProgress, itemProgress } from '../ui/progress.js';
import { registryConnections } from './registry/connection-limit.js';
import { RegistryConnections } from './registry/connections.js';
import { CredentialStore, dockerConfigPath, type CredentialMap } from './registry/credentials.js';
import { parseReference } from '../oci/reference.js';
import { DockerArchiveSource } from './sources/docker-archive.js';
import { LayoutSource } from './sources/layout-source.js';
import { RegistrySource } from './sources/registry-source.js';
import type { ImageSource } from './sources/source.js';

export interface CollectOptions {
  /** Directory of the release manifest: ociLayout and dockerArchive paths are relative to it. */
  manifestDir: string;
  /** Blob cache (an OCI image layout), reused across builds. */
  cacheDir: string;
  /** Platforms for images whose spec names none (`--platform`); default: all. */
  platforms?: string[];
  /** Credentials per registry host; hosts not named here are looked up in Docker's config.json. */
  credentials?: CredentialMap;
  /** Docker config file to read credentials from; null reads none. Default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  dockerConfig?: string | null;
  output: Output;
}

export interface CollectedImages<Judged = undefined> {
  files: PayloadFile[];
  images: BundleImage[];
  /** What `judge` made of the images, when one was given. */
  judged: Judged;
}

/**
 * `judge` (the build's image policy) is called once everything attached to the images is in the
 * cache, while their layers may still be moving: the evidence is small and the layers are not, so the
 * check costs no time of its own. Layers go on until they are in, whatever it decides.
 */
export async function collectImages<Judged = undefined>(
  specs: ImageSpec[],
  options: CollectOptions & { judge?: (images: BundleImage[]) => Promise<Judged> },
): Promise<CollectedImages<Judged>> {
  const seenRefs = new Set<string>();
  for (const spec of specs) {
    parseReference(spec.ref);
    if (seenRefs.has(spec.ref)) throw new AirlockError('MANIFEST_INVALID', `image ${spec.ref} is listed twice`);
    seenRefs.add(spec.ref);
  }
  const cache = await OciLayout.open(resolve(options.cacheDir), { create: true });
  const connections = new RegistryConnections(
    new CredentialStore(options.credentials, options.dockerConfig === undefined ? dockerConfigPath() : options.dockerConfig),
    options.output,
  );
  try {
    // Resolving an image is a few small round trips in a row (manifests, config):
    // many images are resolved side by side, as many as the connections to a registry allow.
    const resolved: Array<{ spec: ImageSpec; source: ImageSource; image: ResolvedImage }> = new Array(specs.length);
    const progress = itemProgress(options.output, 'resolving images', specs.length, 'images');
    try {
      await forEachLimit([...specs.entries()], registryConnections(), async ([index, spec]) => {
        const source = await openSource(spec, options, cache, connections);
        const image = await resolveImage(source, cache, spec.platforms ?? options.platforms, spec.attached !== false);
        options.output.debug(`image ${spec.ref}: ${image.descriptor.digest} (${image.platforms.join(', ') || 'no platform'})`);
        resolved[index] = { spec, source, image };
        progress.add(1);
      });
    } finally {
      progress.stop();
    }
    // The images' blobs start moving at once; what is attached to them (a few small lookups per image)
    // is searched for meanwhile, each image's found blobs fetched as soon as its lookups are done.
    const imageBlobs = resolved.map(({ source, image }) => ({ source, blobs: image.blobs }));
    const claimed = new Set(imageBlobs.flatMap(({ blobs }) => blobs.map((blob) => blob.digest)));
    const [, { images, judged }] = await allSettledFirst([
      fetchBlobs(imageBlobs, cache, options.output),
      collectAllAttached(resolved, cache, claimed, options.output).then(async (attachments) => {
        const images = resolved.map(({ spec, image }, index) => bundleImageOf(spec, image, attachments[index]!));
        const judged = (await options.judge?.(images.map((i) => i.bundleImage))) as Judged;
        return { images, judged };
      }),
    ] as const);
    const tagged = resolved.map(({ spec, image }) => ({ ref: spec.ref, descriptor: image.descriptor }));
    await cache.tagImages(tagged);
    const entries = [...tagged, ...images.flatMap(({ bundleImage }) => attachedEntries(bundleImage))];
    return {
      files: payloadFiles(images.map((i) => i.contents), cache, entries),
      images: images.map((i) => i.bundleImage),
      judged,
    };
  } finally {
    await connections.close();
  }
}

function bundleImageOf(spec: ImageSpec, image: ResolvedImage, attached: AttachedArtifacts): { bundleImage: BundleImage; contents: Descriptor[] } {
  // Signatures of the published index vouch for what was selected from it, so that index travels too.
  const upstream = image.published.digest !== image.descriptor.digest && attached.attached.some((a) => a.subject === image.published.digest) ? image.published : undefined;
  const bundleImage: BundleImage = {
    ref: spec.ref,
    digest: image.descriptor.digest,
    mediaType: image.descriptor.mediaType,
    platforms: image.platforms,
    size: image.size,
    ...(upstream ? { upstream } : {}),
    ...(attached.attached.length > 0 ? { attached: attached.attached } : {}),
  };
  return { bundleImage, contents: [...image.contents, ...attached.contents, ...(upstream ? [upstream as Descriptor] : [])] };
}

async function openSource(spec: ImageSpec, options: CollectOptions, cache: OciLayout, connections: RegistryConnections): Promise<ImageSource> {
  if (spec.ociLayout !== undefined) {
    const layout = await OciLayout.open(resolve(options.manifestDir, spec.ociLayout), { create: false });
    return new LayoutSource(layout, spec.tag, spec.ref);
  }
  if (spec.dockerArchive !== undefined) return DockerArchiveSource.load(resolve(options.manifestDir, spec.dockerArchive), spec.ref, cache);
  const reference = parseReference(spec.ref);
  return new RegistrySource(await connections.get(reference.registry, spec.insecure === true), reference, spec.ref);
}

/**
 * What is attached to each image (`attached: false` opts one out), as many images at a time as a
 * registry has connections, with its blobs fetched as soon as found. `claimed` holds the blobs some
 * fetch already has in hand (the images' own, and those of attachments found earlier).
 */
async function collectAllAttached(
  resolved: ReadonlyArray<{ spec: ImageSpec; source: ImageSource; image: ResolvedImage }>,
  cache: OciLayout,
  claimed: Set<string>,
  output: Output,
): Promise<AttachedArtifacts[]> {
  const found: AttachedArtifacts[] = new Array(resolved.length);
  await forEachLimit([...resolved.entries()], registryConnections(), async ([index, { spec, source, image }]) => {
    const attached = spec.attached === false ? { attached: [], contents: [], blobs: [] } : await collectAttached(source, cache, image, output);
    const unclaimed = attached.blobs.filter((blob) => !claimed.has(blob.digest));
    for (const blob of unclaimed) claimed.add(blob.digest);
    if (unclaimed.length > 0) await fetchBlobs([{ source, blobs: unclaimed }], cache, output);
    found[index] = attached;
  });
  return found;
}

/** Each blob once, from the first image that needs it; already-cached (and re-verified) blobs are not fetched again. */
async function fetchBlobs(resolved: Array<{ source: ImageSource; blobs: Descriptor[] }>, cache: OciLayout, output: Output): Promise<void> {
  const wanted = new Map<string, { descriptor: Descriptor; source: ImageSource }>();
  for (const { source, blobs } of resolved) {
    for (const descriptor of blobs) if (!wanted.has(descriptor.digest)) wanted.set(descriptor.digest, { descriptor, source });
  }
  const all = [...wanted.values()];
  const progress = byteProgress(output, 'pulling images', all.reduce((sum, b) => sum + b.descriptor.size, 0));
  let fetched = 0;
  try {
    await forEachLimit(all, registryConnections(), async ({ descriptor, source }) => {
      if (await cache.hasBlob(descriptor, true)) {
        progress.add(descriptor.size);
        return;
      }
      await source.retrying(async () => cache.writeBlob({ ...descriptor, what: source.what }, await source.blob(descriptor), progress.add));
      fetched++;
    });
  } finally {
    progress.stop();
  }
  output.debug(`images: ${fetched} blobs fetched, ${all.length - fetched} already cached`);
}

function payloadFiles(images: Descriptor[][], cache: OciLayout, tagged: readonly TaggedImage[]): PayloadFile[] {
  const sizes = new Map<string, number>();
  for (const contents of images) for (const blob of contents) sizes.set(blob.digest, blob.size);
  const blobs: PayloadFile[] = [...sizes.entries()].map(([digest, size]) => ({
    path: `${BLOBS_DIR}${digestHex(digest)}`,
    size,
    mode: FILE_MODE,
    source: { kind: 'file', path: cache.blobPath(digest) },
  }));
  return [bytesPayload(OCI_LAYOUT_PATH, OCI_LAYOUT_BYTES), bytesPayload(OCI_INDEX_PATH, renderIndex(tagged)), ...blobs].sort((a, b) =>
    comparePaths(a.path, b.path),
  );
}

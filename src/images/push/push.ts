/**
 * Images out of the bundle, for the installer: into a registry on the isolated network, or into
 * an OCI image layout directory. Safe to run again after an interruption: whatever the target
 * already holds is skipped, so only what is missing is sent. A push is opened for the images it
 * may push (the installer then pushes them one journaled step at a time) so that what is shared
 * between images, the connections, the bundle's image graph and the blobs already sent, is
 * worked out once, and the blobs of the next images move while an image is tagged.
 */
import { AirlockError } from '../../base/errors.js';
import type { BundleImage } from '../../manifest/bundle-manifest.js';
import { OciLayout } from '../layout.js';
import { byteProgress } from '../../ui/progress.js';
import { parseRegistryHost } from '../../oci/reference.js';
import type { BlobSource } from './blob-source.js';
import { imageContents, indexEntry, readLayoutIndex, type ImageContents } from './bundle-graph.js';
import { pushToLayout } from './layout-target.js';
import { holdersOf, pushTarget, pushToRegistry, RegistryPush } from './registry-target.js';
import { assertNoCollisions, mapReference } from './repository-map.js';
import { targetTransport } from './target-transport.js';
import type { ImageTarget, PushedImage, PushOptions } from './types.js';
import { attachmentContents, pushAttachedToRegistry, type PlannedAttachment } from './attached-target.js';
import { attachedEntries } from '../attached.js';

export type { BlobSource } from './blob-source.js';
export { bundleBlobSource } from './blob-source.js';
export { imageDestination } from './destination.js';
export type { BlobEvent, ImageTarget, PushedImage, PushOptions } from './types.js';

// distribution saves and reloads its hash state around every PATCH, so small chunks cost throughput
// (a 600 MB push here took about twice as long in 8 MiB chunks as in 128 MiB ones).
const DEFAULT_CHUNK_SIZE = 128 * 1024 * 1024;

/** An open push: each image of those it was opened for, in any order, each at most once per push. */
export interface ImagePush {
  /** Pushes one image and its attached artifacts, then tags it. Idempotent. */
  push(image: BundleImage): Promise<PushedImage>;
  /** Waits for transfers still running (started ahead for later images), then closes the connections. */
  close(): Promise<void>;
}

/** How many images ahead of the one being pushed have their blobs sent already. */
const LOOKAHEAD_IMAGES = 4;

export async function pushImages(source: BlobSource, images: BundleImage[], target: ImageTarget, options: PushOptions): Promise<PushedImage[]> {
  const push = await openImagePush(source, images, target, options);
  try {
    const pushed: PushedImage[] = [];
    for (const image of images) pushed.push(await push.push(image));
    return pushed;
  } finally {
    await push.close();
  }
}

/** Checks every image's graph in the bundle (sizes included) before anything is sent. */
export async function openImagePush(source: BlobSource, images: BundleImage[], target: ImageTarget, options: PushOptions): Promise<ImagePush> {
  const index = await readLayoutIndex(source);
  const planned: Planned[] = [];
  for (const image of images) {
    const contents = await imageContents(source, indexEntry(index, image), image.ref);
    const attachments = await attachmentContents(source, image);
    for (const blob of [...contents.blobs, ...attachments.flatMap((a) => a.contents.blobs)]) {
      if (options.held?.has(blob.digest)) continue;
      const stored = source.size(blob.digest);
      if (stored !== blob.size) throw new AirlockError('IMAGE_INVALID', `${image.ref}: blob ${blob.digest} is ${stored} bytes in the bundle, ${blob.size} in its manifest`);
    }
    planned.push({ image, contents, attachments });
  }
  const find = (image: BundleImage): Planned => {
    const found = planned.find((p) => p.image === image) ?? planned.find((p) => p.image.ref === image.ref && p.image.digest === image.digest);
    if (found === undefined) throw new AirlockError('INTERNAL', `${image.ref}: not among the images this push was opened for`);
    return found;
  };
  const progressOf = ({ contents, attachments }: Planned) => byteProgress(options.output, 'pushing images', [contents, ...attachments.map((a) => a.contents)].reduce((sum, c) => sum + bytes(c), 0));
  if (target.kind === 'oci-layout') {
    const layout = await OciLayout.open(target.dir, { create: true, durable: true });
    return {
      async push(image) {
        const planned = find(image);
        const { contents, attachments } = planned;
        const progress = progressOf(planned);
        try {
          const entries = attachedEntries(image);
          // Attached artifacts first, so the image's tag never points at an image whose evidence is missing.
          for (const [i, attachment] of attachments.entries()) await pushToLayout(layout, source, image.ref, attachment.contents, progress, options, [entries[i]!]);
          return await pushToLayout(layout, source, image.ref, contents, progress, options);
        } finally {
          progress.stop();
        }
      },
      close: async () => undefined,
    };
  }
  return openRegistryPush(source, planned, index, target, options, find, progressOf);
}

interface Planned {
  image: BundleImage;
  contents: ImageContents;
  attachments: PlannedAttachment[];
}

const bytes = (contents: ImageContents) => contents.blobs.reduce((s, b) => s + b.size, 0);

async function openRegistryPush(
  source: BlobSource,
  planned: Planned[],
  index: Awaited<ReturnType<typeof readLayoutIndex>>,
  target: Extract<ImageTarget, { kind: 'registry' }>,
  options: PushOptions,
  find: (image: BundleImage) => Planned,
  progressOf: (planned: Planned) => ReturnType<typeof byteProgress>,
): Promise<ImagePush> {
  const registry = parseRegistryHost(target.registry);
  const destinations = planned.map(({ image }) => mapReference(image.ref, registry, target.repositoryMap));
  assertNoCollisions(planned.map((p) => p.image), destinations, { verb: 'pushed', remedy: 'give a repository prefix or rename one' });
  const transport = await targetTransport(target, options.output);
  let push: RegistryPush;
  try {
    push = new RegistryPush(transport, source, target.chunkSize ?? DEFAULT_CHUNK_SIZE, options, await bundleHolders(source, index, planned, registry, target));
  } catch (error) {
    transport.close();
    throw error;
  }
  return {
    async push(image) {
      const position = planned.indexOf(find(image));
      const { contents, attachments } = planned[position]!;
      // This image's blobs first, then those of the next few, all through the one limiter.
      for (let p = position; p < Math.min(planned.length, position + 1 + LOOKAHEAD_IMAGES); p++) {
        const { image: ahead, contents: aheadContents, attachments: aheadAttachments } = planned[p]!;
        const what = pushTarget(ahead.ref, destinations[p]!);
        // Attached artifacts first: a few small blobs each, whose round trips would otherwise wait behind the layers.
        for (const attachment of aheadAttachments) push.prefetch(destinations[p]!.repository, attachment.contents, what);
        push.prefetch(destinations[p]!.repository, aheadContents, what);
      }
      const progress = progressOf(planned[position]!);
      push.progress = progress;
      try {
        // The attached artifacts are small: their round trips overlap the image's own transfers.
        const [result] = await Promise.all([pushToRegistry(push, image.ref, contents, destinations[position]!), pushAttachedToRegistry(push, image, attachments, destinations[position]!)]);
        return result;
      } finally {
        progress.stop();
      }
    },
    async close() {
      try {
        await push.close();
      } finally {
        transport.close();
      }
    },
  };
}

/**
 * Blobs of every image of the bundle, by the repository each would be pushed to: candidates for
 * a cross-repository mount when a blob is not yet known to be anywhere in this run (an image
 * pushed by an interrupted install, say). A mount from a repository that lacks the blob costs
 * nothing: the registry opens a normal upload instead.
 */
async function bundleHolders(
  source: BlobSource,
  index: Awaited<ReturnType<typeof readLayoutIndex>>,
  planned: readonly Planned[],
  registry: string,
  target: Extract<ImageTarget, { kind: 'registry' }>,
): Promise<Map<string, Set<string>>> {
  const holders = new Map<string, Set<string>>();
  const read = new Map(planned.map((p) => [p.image.ref, p.contents]));
  for (const [ref, descriptor] of index) {
    const repository = mapReference(ref, registry, target.repositoryMap).repository;
    const contents = read.get(ref) ?? (await imageContents(source, descriptor, ref));
    for (const blob of contents.blobs) holdersOf(holders, blob.digest).add(repository);
  }
  return holders;
}

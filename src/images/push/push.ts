/**
 * Images out of the bundle, for the installer: into a registry on the isolated network, or into
 * an OCI image layout directory. Safe to run again after an interruption: whatever the target
 * already holds is skipped, so only what is missing is sent.
 */
import { AirlockError } from '../../base/errors.js';
import type { BundleImage } from '../../manifest/bundle-manifest.js';
import { OciLayout } from '../layout.js';
import { byteProgress } from '../../ui/progress.js';
import { parseRegistryHost } from '../../oci/reference.js';
import type { BlobSource } from './blob-source.js';
import { imageContents, indexEntry, readLayoutIndex, type ImageContents } from './bundle-graph.js';
import { pushToLayout } from './layout-target.js';
import { holdersOf, pushToRegistry } from './registry-target.js';
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

export async function pushImages(source: BlobSource, images: BundleImage[], target: ImageTarget, options: PushOptions): Promise<PushedImage[]> {
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
  const bytes = (contents: ImageContents) => contents.blobs.reduce((s, b) => s + b.size, 0);
  const progress = byteProgress(
    options.output,
    'pushing images',
    planned.reduce((sum, p) => sum + bytes(p.contents) + p.attachments.reduce((s, a) => s + bytes(a.contents), 0), 0),
  );
  try {
    if (target.kind === 'oci-layout') {
      const layout = await OciLayout.open(target.dir, { create: true, durable: true });
      const pushed: PushedImage[] = [];
      for (const { image, contents, attachments } of planned) {
        const entries = attachedEntries(image);
        // Attached artifacts first, so the image's tag never points at an image whose evidence is missing.
        for (const [i, attachment] of attachments.entries()) await pushToLayout(layout, source, image.ref, attachment.contents, progress, options, [entries[i]!]);
        pushed.push(await pushToLayout(layout, source, image.ref, contents, progress, options));
      }
      return pushed;
    }
    return await pushToRegistryTarget(source, planned, index, target, options, progress);
  } finally {
    progress.stop();
  }
}

interface Planned {
  image: BundleImage;
  contents: ImageContents;
  attachments: PlannedAttachment[];
}

async function pushToRegistryTarget(
  source: BlobSource,
  planned: Planned[],
  index: Awaited<ReturnType<typeof readLayoutIndex>>,
  target: Extract<ImageTarget, { kind: 'registry' }>,
  options: PushOptions,
  progress: ReturnType<typeof byteProgress>,
): Promise<PushedImage[]> {
  const registry = parseRegistryHost(target.registry);
  const destinations = planned.map(({ image }) => mapReference(image.ref, registry, target.repositoryMap));
  assertNoCollisions(planned.map((p) => p.image), destinations, { verb: 'pushed', remedy: 'give a repository prefix or rename one' });
  const transport = await targetTransport(target, options.output);
  try {
    const holders = await otherImageHolders(source, index, planned, registry, target);
    const push = { transport, source, chunkSize: target.chunkSize ?? DEFAULT_CHUNK_SIZE, progress, options, holders };
    const pushed: PushedImage[] = [];
    for (const [i, { image, contents, attachments }] of planned.entries()) {
      // The attached artifacts are small: their round trips overlap the image's own transfers.
      const [result] = await Promise.all([pushToRegistry(push, image.ref, contents, destinations[i]!), pushAttachedToRegistry(push, image, attachments, destinations[i]!)]);
      pushed.push(result);
    }
    return pushed;
  } finally {
    transport.close();
  }
}

/**
 * Blobs of the bundle's other images, by the repository each would be pushed to: candidates
 * for a cross-repository mount. The installer pushes one image per call, so "pushed earlier in
 * this install" (or in an interrupted one) is known from the bundle, not from memory. A mount
 * from a repository that lacks the blob costs nothing: the registry opens a normal upload instead.
 */
async function otherImageHolders(
  source: BlobSource,
  index: Awaited<ReturnType<typeof readLayoutIndex>>,
  planned: Array<{ image: BundleImage }>,
  registry: string,
  target: Extract<ImageTarget, { kind: 'registry' }>,
): Promise<Map<string, Set<string>>> {
  const holders = new Map<string, Set<string>>();
  const pushing = new Set(planned.map((p) => p.image.ref));
  for (const [ref, descriptor] of index) {
    if (pushing.has(ref)) continue;
    const repository = mapReference(ref, registry, target.repositoryMap).repository;
    for (const blob of (await imageContents(source, descriptor, ref)).blobs) holdersOf(holders, blob.digest).add(repository);
  }
  return holders;
}

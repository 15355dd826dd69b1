/**
 * Pushing one image into a registry: blobs the repository has are skipped (HEAD), blobs another
 * repository of the same registry holds are mounted, the rest uploaded; then manifests go up by
 * digest (children first) and the image is tagged. The exact bundle bytes are sent, so the
 * registry's digests are the bundle's.
 */
import type { Descriptor } from '../../oci/schema.js';
import { forEachLimit, TRANSFER_CONCURRENCY } from '../../base/parallel.js';
import type { ByteProgress } from '../../ui/progress.js';
import { blobExists, mountBlob, uploadBlob } from '../registry/blobs.js';
import { manifestExists, putManifest } from '../registry/manifests.js';
import { formatReference, type ImageReference } from '../../oci/reference.js';
import type { RegistryTransport } from '../registry/transport.js';
import type { BlobSource } from './blob-source.js';
import type { ImageContents } from './bundle-graph.js';
import { heldBlobGone, type BlobEvent, type PushedImage, type PushOptions } from './types.js';

export interface RegistryPush {
  transport: RegistryTransport;
  source: BlobSource;
  chunkSize: number;
  progress: ByteProgress;
  options: PushOptions;
  /** Repositories known to hold each blob: pushed in this run, or holding another bundle image that has it. */
  holders: Map<string, Set<string>>;
}

export async function pushToRegistry(push: RegistryPush, ref: string, contents: ImageContents, destination: ImageReference): Promise<PushedImage> {
  const { transport, source } = push;
  const repository = destination.repository;
  const what = `${ref} -> ${formatReference(destination)}`;
  const result: PushedImage = {
    ref,
    target: formatReference(destination),
    digest: contents.manifests.at(-1)!.descriptor.digest,
    blobs: { transferred: 0, mounted: 0, skipped: 0 },
    bytesTransferred: 0,
  };
  const settle = (descriptor: Descriptor, outcome: BlobEvent['outcome']) => {
    if (outcome === 'skipped' || outcome === 'mounted') push.progress.add(descriptor.size);
    if (outcome === 'uploaded') {
      result.blobs.transferred++;
      result.bytesTransferred += descriptor.size;
    } else {
      result.blobs[outcome === 'skipped' ? 'skipped' : 'mounted']++;
    }
    holdersOf(push.holders, descriptor.digest).add(repository);
    push.options.output.debug(`${what}: blob ${descriptor.digest} ${outcome}`);
    push.options.onProgress?.({ ref, digest: descriptor.digest, size: descriptor.size, outcome });
  };

  await forEachLimit(contents.blobs, TRANSFER_CONCURRENCY, async (descriptor) => {
    if (await blobExists(transport, repository, descriptor)) return settle(descriptor, 'skipped');
    // A delta's omitted blob comes from where the site holds it, or not at all.
    const held = push.options.held?.get(descriptor.digest);
    const from = held ?? [...holdersOf(push.holders, descriptor.digest)].find((other) => other !== repository);
    let session: URL | undefined;
    if (from !== undefined && from !== repository) {
      session = await mountBlob(transport, repository, descriptor.digest, from);
      if (session === undefined) return settle(descriptor, 'mounted');
    }
    if (held !== undefined) throw heldBlobGone(ref, descriptor.digest, `${transport.registry}/${held}`);
    await uploadBlob(transport, repository, descriptor, () => source.open(descriptor.digest), {
      chunkSize: push.chunkSize,
      ...(session ? { location: session } : {}),
      onBytes: push.progress.add,
      what,
    });
    settle(descriptor, 'uploaded');
  });

  for (const manifest of contents.manifests) {
    const document = { ...manifest.descriptor, bytes: manifest.bytes };
    if (await manifestExists(transport, repository, manifest.descriptor.digest)) continue;
    await putManifest(transport, repository, manifest.descriptor.digest, document, what);
  }
  const top = contents.manifests.at(-1)!;
  if (destination.tag !== undefined) await putManifest(transport, repository, destination.tag, { ...top.descriptor, bytes: top.bytes }, what);
  return result;
}

export function holdersOf(holders: Map<string, Set<string>>, digest: string): Set<string> {
  let set = holders.get(digest);
  if (!set) {
    set = new Set();
    holders.set(digest, set);
  }
  return set;
}

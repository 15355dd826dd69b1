/**
 * Pushing one image into an OCI image layout directory (the embedded target): blobs already
 * there are skipped, the rest copied with their digest checked as they stream and fsynced;
 * index.json is updated last, atomically, so a crash never leaves a tag pointing at missing blobs.
 */
import type { OciLayout, TaggedImage } from '../layout.js';
import { forEachLimit, TRANSFER_CONCURRENCY } from '../../base/parallel.js';
import type { ByteProgress } from '../../ui/progress.js';
import type { BlobSource } from './blob-source.js';
import { imageDestination } from './destination.js';
import type { ImageContents } from './bundle-graph.js';
import { heldBlobGone, type PushedImage, type PushOptions } from './types.js';

export async function pushToLayout(
  layout: OciLayout,
  source: BlobSource,
  ref: string,
  contents: ImageContents,
  progress: ByteProgress,
  options: PushOptions,
  /** What index.json lists for it: by default the image under its ref (attached artifacts pass their own entries). */
  entries?: TaggedImage[],
): Promise<PushedImage> {
  const top = contents.manifests.at(-1)!.descriptor;
  const result: PushedImage = { ref, target: imageDestination({ kind: 'oci-layout', dir: layout.dir }, ref), digest: top.digest, blobs: { transferred: 0, mounted: 0, skipped: 0 }, bytesTransferred: 0 };
  await forEachLimit(contents.blobs, TRANSFER_CONCURRENCY, async (descriptor) => {
    let outcome: 'skipped' | 'copied' = 'skipped';
    // A blob under its digest name was written verified and renamed into place: its presence is enough.
    if (await layout.hasBlob(descriptor, false)) {
      progress.add(descriptor.size);
      result.blobs.skipped++;
    } else if (options.held?.has(descriptor.digest)) {
      throw heldBlobGone(ref, descriptor.digest, layout.dir);
    } else {
      await layout.writeBlob({ ...descriptor, what: ref }, source.open(descriptor.digest), progress.add);
      result.blobs.transferred++;
      result.bytesTransferred += descriptor.size;
      outcome = 'copied';
    }
    options.output.debug(`${ref} -> ${layout.dir}: blob ${descriptor.digest} ${outcome}`);
    options.onProgress?.({ ref, digest: descriptor.digest, size: descriptor.size, outcome });
  });
  for (const manifest of contents.manifests) await layout.writeBytes(manifest.bytes);
  await layout.syncBlobs();
  await layout.tagImages(entries ?? [{ ref, descriptor: top }]);
  return result;
}

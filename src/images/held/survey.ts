/**
 * What a site's image target holds of the images airlock installed there: each image's graph
 * read back from the target itself (its manifests by digest, where the image went), and each
 * config and layer blob of it asked for (registry HEAD in that repository, or the layout's blob
 * file with its size). A blob garbage-collected or deleted since the install is not claimed; an
 * image whose manifest is gone is listed as not present and claims nothing.
 */
import { isAirlockError } from '../../base/errors.js';
import { forEachLimit } from '../../base/parallel.js';
import { registryConnections } from '../registry/connection-limit.js';
import { comparePaths } from '../../bundle/format.js';
import type { HeldImage, TargetHoldings } from '../../manifest/holdings.js';
import type { Descriptor } from '../../oci/schema.js';
import { imageContents } from '../push/bundle-graph.js';
import { manifestSource, type TargetProbe } from './probe.js';

/** An image a release on the site's stack installed. */
export interface InstalledImage {
  ref: string;
  digest: string;
  mediaType?: string;
  /** The release's version. */
  release: string;
}

export async function surveyTarget(probe: TargetProbe, installed: readonly InstalledImage[]): Promise<TargetHoldings> {
  const images = new Map<string, HeldImage & { mediaType?: string }>();
  for (const image of installed) {
    const key = `${image.ref}@${image.digest}`;
    const known = images.get(key);
    if (known) known.releases.push(image.release);
    else images.set(key, { ref: image.ref, digest: image.digest, releases: [image.release], destination: probe.destination(image.ref), present: false, ...(image.mediaType ? { mediaType: image.mediaType } : {}) });
  }
  const asked = new Map<string, { repository: string; blob: Descriptor }>();
  // Each image's graph is a few small reads in a row: images are read side by side.
  await forEachLimit([...images.values()], registryConnections(), async (image) => {
    const repository = probe.repository(image.ref);
    const top = await probe.manifest(repository, image.digest);
    if (top === undefined) return;
    try {
      const contents = await imageContents(manifestSource(probe, repository), { mediaType: image.mediaType ?? 'application/json', digest: image.digest, size: top.length }, image.destination);
      for (const blob of contents.blobs) asked.set(`${repository}@${blob.digest}`, { repository, blob });
      image.present = true;
    } catch (error) {
      // A child manifest of an index is gone: the image is not whole on the target.
      if (!isAirlockError(error, 'IMAGE_NOT_FOUND')) throw error;
    }
  });
  const held = new Map<string, { size: number; repositories: Set<string> }>();
  await forEachLimit([...asked.values()], registryConnections(), async ({ repository, blob }) => {
    if (!(await probe.holds(repository, blob))) return;
    const entry = held.get(blob.digest) ?? { size: blob.size, repositories: new Set<string>() };
    entry.repositories.add(repository);
    held.set(blob.digest, entry);
  });
  return {
    kind: probe.kind,
    location: probe.location,
    images: [...images.values()]
      .map(({ mediaType: _mediaType, ...image }) => image)
      .sort((a, b) => comparePaths(a.ref, b.ref) || comparePaths(a.digest, b.digest)),
    blobs: [...held.entries()]
      .sort(([a], [b]) => comparePaths(a, b))
      .map(([digest, { size, repositories }]) => ({ digest, size, ...(probe.kind === 'registry' ? { repositories: [...repositories].sort(comparePaths) } : {}) })),
  };
}

/**
 * A delta bundle as people read it (inspect, the officer's report): what it was cut against,
 * its size against the full bundle's, and per image the layer blobs it leaves out.
 */
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { fullBundleBytes, omittedBytes, type DeltaBase, type OmittedBlob } from '../manifest/delta.js';
import { omittedByImage, readLayoutGraph } from './layout-graph.js';
import type { BlobSource } from './push/blob-source.js';

export interface DeltaImage {
  ref: string;
  digest: string;
  /** Bytes of every blob the image needs, as airlock.json records them. */
  size: number;
  omitted: OmittedBlob[];
  omittedBytes: number;
}

export interface DeltaView {
  bases: DeltaBase[];
  omitted: OmittedBlob[];
  omittedBytes: number;
  /** This bundle's bytes, and about what the full bundle of the same release would weigh. */
  bundleBytes: number;
  fullBytes: number;
  images: DeltaImage[];
}

/** Undefined for a full bundle. The graph is read from `source` as it is: verify vouches for it, this only describes it. */
export async function deltaView(source: BlobSource, manifest: BundleManifest, bundleBytes: number): Promise<DeltaView | undefined> {
  const delta = manifest.delta;
  if (delta === undefined) return undefined;
  const perImage = delta.omitted.length === 0 ? [] : omittedByImage(await readLayoutGraph(source), delta.omitted);
  const sizes = new Map(manifest.images.map((image) => [image.ref, image.size]));
  return {
    bases: delta.bases,
    omitted: delta.omitted,
    omittedBytes: omittedBytes(delta),
    bundleBytes,
    fullBytes: fullBundleBytes(bundleBytes, delta),
    images: perImage.map((image) => ({ ...image, size: sizes.get(image.ref) ?? 0, omittedBytes: image.omitted.reduce((sum, blob) => sum + blob.size, 0) })),
  };
}

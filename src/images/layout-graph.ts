/**
 * The image graph of an OCI layout (a bundle's, or the one a build is about to write): every
 * index.json entry walked down to its blobs with the push code's walker, and what a delta may
 * leave out of it: layer blobs only, never a manifest, an index or a config, and nothing of an
 * attached artifact (signatures, attestations, SBOMs: small, and judged again offline from the
 * bundle's own bytes) (docs/DELTA.md).
 * The checks of a delta's omitted list against the graph are pure functions over it.
 */
import { AirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import { formatIssues } from '../base/validate.js';
import { BLOBS_DIR, MANIFEST_PATH, OCI_INDEX_PATH, comparePaths } from '../bundle/format.js';
import type { OmittedBlob } from '../manifest/delta.js';
import { digestHex } from '../oci/digest.js';
import { imageIndexSchema, type Descriptor } from '../oci/schema.js';
import { ATTACHED_TO, REF_NAME } from './layout.js';
import type { BlobSource } from './push/blob-source.js';
import { imageContents, type ImageContents } from './push/bundle-graph.js';

export interface GraphImage {
  /** The entry's ref.name; undefined for an untagged entry (an attached artifact, say). */
  ref: string | undefined;
  /** How messages name it: the ref, or the index.json position and digest. */
  what: string;
  descriptor: Descriptor;
  contents: ImageContents;
}

export interface LayoutGraph {
  images: GraphImage[];
  /** Every config, layer and artifact blob, by digest. */
  blobs: ReadonlyMap<string, Descriptor>;
  /** Layer blobs a delta may leave out (a layer of some manifest, a config of none), by digest. */
  omittable: ReadonlyMap<string, Descriptor>;
}

export async function readLayoutGraph(source: BlobSource): Promise<LayoutGraph> {
  const parsed = imageIndexSchema.safeParse(await source.readJson(OCI_INDEX_PATH));
  if (!parsed.success) throw new AirlockError('IMAGE_INVALID', formatIssues(OCI_INDEX_PATH, parsed.error).join('\n'));
  const images: GraphImage[] = [];
  for (const [position, descriptor] of parsed.data.manifests.entries()) {
    const ref = descriptor.annotations?.[REF_NAME];
    const what = ref ?? `${OCI_INDEX_PATH} entry ${position} (${descriptor.digest})`;
    images.push({ ref, what, descriptor, contents: await imageContents(source, descriptor, what) });
  }
  const blobs = new Map<string, Descriptor>();
  // Configs and manifests are always carried, even where the same bytes also serve as a layer.
  const kept = new Set<string>();
  const layers = new Set<string>();
  for (const { contents, descriptor } of images) {
    for (const blob of contents.blobs) blobs.set(blob.digest, blob);
    if (descriptor.annotations?.[ATTACHED_TO] !== undefined) for (const blob of contents.blobs) kept.add(blob.digest);
    for (const digest of contents.configs) kept.add(digest);
    for (const digest of contents.layers) layers.add(digest);
    for (const manifest of contents.manifests) kept.add(manifest.descriptor.digest);
  }
  const omittable = new Map([...blobs].filter(([digest]) => layers.has(digest) && !kept.has(digest)));
  return { images, blobs, omittable };
}

/**
 * Whether a delta's omitted list fits its image graph: every blob the graph needs is carried or
 * left out, and only layers the graph needs are left out, once each, with their sizes, sorted.
 */
export function omittedListProblems(graph: LayoutGraph, carried: (digest: string) => boolean, omitted: readonly OmittedBlob[]): Problem[] {
  const problems: Problem[] = [];
  const left = new Map(omitted.map((blob) => [blob.digest, blob]));
  const users = usersOf(graph);
  for (const [digest, blob] of graph.blobs) {
    if (carried(digest) || left.has(digest)) continue;
    const path = `${BLOBS_DIR}${digestHex(digest)}`;
    problems.push({ code: 'FILE_MISSING', message: `${path} (needed by ${users.get(digest)!.join(', ')}) is neither in the bundle nor in ${MANIFEST_PATH}'s delta.omitted`, path });
  }
  omitted.forEach((blob, index) => {
    const field = `${MANIFEST_PATH}: delta.omitted[${index}]: ${blob.digest}`;
    const fault = (message: string) => problems.push({ code: 'BUNDLE_FORMAT', message: `${field} ${message}`, path: MANIFEST_PATH });
    const needed = graph.omittable.get(blob.digest);
    if (index > 0 && comparePaths(omitted[index - 1]!.digest, blob.digest) >= 0) fault('is out of order or listed twice (the list is sorted by digest, each blob once)');
    if (needed === undefined) fault(graph.blobs.has(blob.digest) ? 'is a config or artifact, which a delta always carries' : `is not a layer of any image in ${OCI_INDEX_PATH}`);
    else if (needed.size !== blob.size) fault(`is ${blob.size} bytes, but ${needed.size} in the manifests that use it`);
    if (carried(blob.digest)) fault('is left out, yet the bundle carries it');
  });
  return problems;
}

/** The omitted blobs each tagged image needs, in index.json order (an image needing none is listed with none). */
export function omittedByImage(graph: LayoutGraph, omitted: readonly OmittedBlob[]): Array<{ ref: string; digest: string; omitted: OmittedBlob[] }> {
  const left = new Map(omitted.map((blob) => [blob.digest, blob]));
  return graph.images.flatMap((image) =>
    image.ref === undefined ? [] : [{ ref: image.ref, digest: image.descriptor.digest, omitted: image.contents.blobs.flatMap((blob) => left.get(blob.digest) ?? []) }],
  );
}

/** Which images (by how messages name them) need each blob. */
export function usersOf(graph: LayoutGraph): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const image of graph.images) {
    for (const blob of image.contents.blobs) {
      const list = users.get(blob.digest) ?? [];
      list.push(image.what);
      users.set(blob.digest, list);
    }
  }
  return users;
}

/**
 * The bundle's OCI layout against airlock.json, once every file's digest passed: every blob the
 * index.json graph needs is carried or, in a delta, listed as left out; and a delta leaves out
 * only layers that graph needs (src/images/layout-graph.ts). A full bundle leaves out nothing,
 * so for it this says every blob its images need is in the bundle.
 */
import { isAirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import { BLOBS_DIR, MANIFEST_PATH, OCI_INDEX_PATH } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { digestHex } from '../oci/digest.js';

export async function checkImages(reader: BundleReader, manifest: BundleManifest, checksums: ReadonlyMap<string, string>): Promise<Problem[]> {
  const omitted = manifest.delta?.omitted ?? [];
  if (!checksums.has(OCI_INDEX_PATH)) {
    if (omitted.length === 0 && manifest.images.length === 0) return [];
    return [{ code: 'FILE_MISSING', message: `${MANIFEST_PATH} names ${manifest.images.length} image(s) and leaves out ${omitted.length} blob(s), but the bundle carries no ${OCI_INDEX_PATH}`, path: OCI_INDEX_PATH }];
  }
  try {
    // Image code, loaded only for a bundle that carries images.
    const [{ omittedListProblems, readLayoutGraph }, { bundleBlobSource }] = await Promise.all([import('../images/layout-graph.js'), import('../images/push/blob-source.js')]);
    const graph = await readLayoutGraph(bundleBlobSource(reader));
    return omittedListProblems(graph, (digest) => checksums.has(`${BLOBS_DIR}${digestHex(digest)}`), omitted);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    return [{ code: error.code, message: error.message }];
  }
}

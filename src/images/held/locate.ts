/**
 * Where a site's image target holds the blobs a delta bundle leaves out: for each one, the
 * repositories of the images that need it first, then every other repository airlock put images
 * in (a registry links blobs per repository; the push mounts one from where it is found). In an
 * OCI layout there is one blob store. With `rehash`, a blob found is read and hashed too, so a
 * corrupt one counts as missing.
 */
import { forEachLimit } from '../../base/parallel.js';
import { registryConnections } from '../registry/connection-limit.js';
import type { OmittedBlob } from '../../manifest/delta.js';
import type { TargetProbe } from './probe.js';

export interface BaseNeed {
  blob: OmittedBlob;
  /** The images of the delta that need it, and the repository each goes to. */
  images: ReadonlyArray<{ ref: string; repository: string }>;
}

export interface BaseLocation {
  /** Omitted blob digest -> the repository found holding it. */
  found: Map<string, string>;
  /** In the omitted list's order; `corrupt`: held, but its bytes no longer hash to its digest. */
  missing: Array<BaseNeed & { corrupt: boolean }>;
}

export async function locateBase(probe: TargetProbe, needs: readonly BaseNeed[], elsewhere: readonly string[], rehash: boolean): Promise<BaseLocation> {
  const found = new Map<string, string>();
  const corrupt = new Set<string>();
  await forEachLimit(needs, registryConnections(), async (need) => {
    for (const repository of new Set([...need.images.map((image) => image.repository), ...elsewhere])) {
      if (!(await probe.holds(repository, need.blob))) continue;
      if (rehash && !(await probe.rehash(repository, need.blob))) corrupt.add(need.blob.digest);
      else found.set(need.blob.digest, repository);
      return;
    }
  });
  return { found, missing: needs.filter((need) => !found.has(need.blob.digest)).map((need) => ({ ...need, corrupt: corrupt.has(need.blob.digest) })) };
}

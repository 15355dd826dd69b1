/** The I/O edge of collection: list the manifest's sources, pack them, and report every problem at once. */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ReleaseManifest } from '../manifest/release.js';
import { manifestInvalid } from '../manifest/release-problems.js';
import { packRelease, sourcePaths, type PackedRelease } from './pack-release.js';
import { listSources } from './source-listing.js';

/**
 * Collects the payload of a release whose manifest `manifestFile` was loaded into `manifest`.
 * Throws MANIFEST_INVALID with one `<manifestFile>: <yaml.path>: <problem>` line per problem
 * (missing, linked or misnamed sources). The manifest file itself is among the inputs of the created time.
 */
export async function collectRelease(manifestFile: string, manifest: ReleaseManifest): Promise<PackedRelease> {
  const root = dirname(resolve(manifestFile));
  const listing = listSources(root, sourcePaths(manifest));
  const result = packRelease(manifest, listing, root);
  if (!result.ok) throw manifestInvalid(manifestFile, result.problems);
  const { mtimeMs } = await stat(manifestFile);
  return { ...result.packed, newestInputMs: Math.max(mtimeMs, result.packed.newestInputMs) };
}

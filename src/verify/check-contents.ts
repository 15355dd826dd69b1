/**
 * Every file the signed SHA256SUMS lists is present with that digest, and nothing else is
 * in the bundle (apart from SHA256SUMS and the signatures). All digests are computed in
 * one parallel pass over the bundle file, reading each payload byte once. An image blob
 * must also hash to the digest it is named by: registries and `skopeo` look it up by that name.
 */
import { BLOBS_DIR, CHECKSUMS_PATH, comparePaths, isSignaturePath } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import { hashRanges } from '../hash/hash-pool.js';
import type { Problem } from '../base/problem.js';

/** Running totals of the files hashed (the same shape as the writer's). */
export type ContentsProgress = (doneBytes: number, totalBytes: number, doneFiles: number, totalFiles: number) => void;

export async function checkContents(reader: BundleReader, checksums: ReadonlyMap<string, string>, onProgress?: ContentsProgress): Promise<Problem[]> {
  const problems: Problem[] = [];
  const payload = reader.entries.filter((entry) => entry.path !== CHECKSUMS_PATH && !isSignaturePath(entry.path));

  for (const path of [...checksums.keys()].sort(comparePaths)) {
    // Looked up in the reader's index rather than a set of its own (200,000 paths); SHA256SUMS and the signatures are not payload.
    if (!reader.has(path) || path === CHECKSUMS_PATH || isSignaturePath(path)) problems.push({ code: 'FILE_MISSING', message: `${path}: listed in ${CHECKSUMS_PATH} but not in the bundle`, path });
  }
  for (const entry of payload) {
    if (!checksums.has(entry.path)) problems.push({ code: 'FILE_EXTRA', message: `${entry.path}: in the bundle but not listed in ${CHECKSUMS_PATH}`, path: entry.path });
  }

  for (const [path, hex] of checksums) {
    if (path.startsWith(BLOBS_DIR) && path !== `${BLOBS_DIR}${hex}`) {
      problems.push({ code: 'DIGEST_MISMATCH', message: `${path}: its content has sha256 ${hex}, not the digest it is named by`, path });
    }
  }

  const listed = payload.filter((entry) => checksums.has(entry.path));
  const totalBytes = listed.reduce((sum, entry) => sum + entry.size, 0);
  let doneBytes = 0;
  let doneFiles = 0;
  const digests = await hashRanges(
    listed.map((entry) => reader.hashJob(entry)),
    { onProgress: onProgress && ((bytes) => onProgress((doneBytes += bytes), totalBytes, ++doneFiles, listed.length)) },
  );
  listed.forEach((entry, index) => {
    if (digests[index] !== checksums.get(entry.path)) {
      problems.push({ code: 'DIGEST_MISMATCH', message: `${entry.path}: sha256 ${digests[index]} does not match ${CHECKSUMS_PATH} (${checksums.get(entry.path)})`, path: entry.path });
    }
  });
  return problems;
}

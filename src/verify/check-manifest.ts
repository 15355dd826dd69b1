/**
 * airlock.json, checked on its own before any other payload file is read: it must be listed in
 * the signed SHA256SUMS and hash to its line there, then match the schema. It is small, so the
 * release it describes (name, version, expiry, targets) is known, and vouched for, while the
 * rest of the payload is still unread.
 */
import { CHECKSUMS_PATH, MANIFEST_PATH } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import { isAirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import { sha256Hex } from '../hash/digest.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { parseBundleManifest } from '../manifest/read-bundle-manifest.js';

export async function checkManifest(reader: BundleReader, checksums: ReadonlyMap<string, string>): Promise<{ problems: Problem[]; manifest?: BundleManifest }> {
  const listed = checksums.get(MANIFEST_PATH);
  if (listed === undefined) {
    return { problems: [{ code: 'FILE_EXTRA', message: `${MANIFEST_PATH}: in the bundle but not listed in ${CHECKSUMS_PATH}`, path: MANIFEST_PATH }] };
  }
  const { actual, text } = await readManifest(reader);
  if (actual !== listed) {
    return { problems: [{ code: 'DIGEST_MISMATCH', message: `${MANIFEST_PATH}: sha256 ${actual} does not match ${CHECKSUMS_PATH} (${listed})`, path: MANIFEST_PATH }] };
  }
  try {
    return { problems: [], manifest: parseBundleManifest(text) };
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    return { problems: [{ code: error.code, message: error.message, path: MANIFEST_PATH }] };
  }
}

/** Its digest and its text; the bytes are garbage before the text is parsed (35 MB of them at 200,000 files). */
async function readManifest(reader: BundleReader): Promise<{ actual: string; text: string }> {
  const bytes = await reader.readFile(MANIFEST_PATH);
  return { actual: sha256Hex(bytes), text: bytes.toString('utf8') };
}

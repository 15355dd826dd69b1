/** airlock.json, read only after SHA256SUMS vouched for it, validated against the schema. */
import { MANIFEST_PATH } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import { bundleManifestSchema, type BundleManifest } from './bundle-manifest.js';
import { parseJson } from '../base/validate.js';

export async function readBundleManifest(reader: BundleReader): Promise<BundleManifest> {
  return parseJson(bundleManifestSchema, (await reader.readFile(MANIFEST_PATH)).toString('utf8'), MANIFEST_PATH, 'BUNDLE_FORMAT');
}

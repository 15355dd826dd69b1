/** airlock.json, read only after SHA256SUMS vouched for it, validated against the schema. */
import { MANIFEST_PATH } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import { bundleManifestSchema, type BundleManifest } from './bundle-manifest.js';
import { parseJson } from '../base/validate.js';

export function parseBundleManifest(bytes: Buffer | string): BundleManifest {
  return parseJson(bundleManifestSchema, bytes, MANIFEST_PATH, 'BUNDLE_FORMAT');
}

export async function readBundleManifest(reader: BundleReader): Promise<BundleManifest> {
  return parseBundleManifest(await reader.readFile(MANIFEST_PATH));
}

/** airlock.json, read only after SHA256SUMS vouched for it, validated against the schema. */
import { MANIFEST_PATH } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import { AirlockError } from '../errors.js';
import { bundleManifestSchema, type BundleManifest } from '../manifest/bundle-manifest.js';
import { validate } from '../manifest/yaml-file.js';

export async function readBundleManifest(reader: BundleReader): Promise<BundleManifest> {
  let data: unknown;
  try {
    data = JSON.parse((await reader.readFile(MANIFEST_PATH)).toString('utf8'));
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw new AirlockError('BUNDLE_FORMAT', `${MANIFEST_PATH}: not valid JSON (${(error as Error).message})`);
  }
  return validate(bundleManifestSchema, data, MANIFEST_PATH, 'BUNDLE_FORMAT');
}

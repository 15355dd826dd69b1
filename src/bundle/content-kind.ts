/** What a bundle path is, by its place in the format: used to group contents for people. */
import { BLOBS_DIR, CONFIGS_DIR, HOOKS_DIR, MANIFEST_PATH, MIGRATIONS_DIR, OCI_INDEX_PATH, OCI_LAYOUT_PATH, SUPPLY_CHAIN_DIR } from './format.js';

export type ContentKind = 'manifest' | 'config' | 'migration' | 'hook' | 'image' | 'image-policy' | 'other';

export function contentKind(path: string): ContentKind {
  if (path === MANIFEST_PATH) return 'manifest';
  if (path.startsWith(CONFIGS_DIR)) return 'config';
  if (path.startsWith(MIGRATIONS_DIR)) return 'migration';
  if (path.startsWith(HOOKS_DIR)) return 'hook';
  if (path.startsWith(SUPPLY_CHAIN_DIR)) return 'image-policy';
  if (path === OCI_LAYOUT_PATH || path === OCI_INDEX_PATH || path.startsWith(BLOBS_DIR)) return 'image';
  return 'other';
}

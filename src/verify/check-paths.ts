/**
 * Every file airlock.json names lies under its kind's place in the bundle, and SHA256SUMS
 * lists it: configs under `configs/<env>/`, migrations (and undo scripts) under
 * `migrations/<db>/`, hooks under `hooks/` (which makes them the only files with mode
 * 0755). A signed manifest naming a config file as a hook would otherwise have it run.
 */
import { CONFIGS_DIR, HOOKS_DIR, MANIFEST_PATH, MIGRATIONS_DIR, SUPPLY_CHAIN_DIR } from '../bundle/format.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { HOOK_PHASES } from '../manifest/release.js';
import type { Problem } from '../base/problem.js';

/** An environment or database name: one path component. */
function isComponent(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/');
}

export function checkManifestPaths(manifest: BundleManifest, checksums: ReadonlyMap<string, string>): Problem[] {
  const problems: Problem[] = [];
  const named = (field: string, path: string, prefix: string) => {
    if (!path.startsWith(prefix)) {
      problems.push({ code: 'BUNDLE_FORMAT', message: `${MANIFEST_PATH}: ${field}: ${path} is not under ${prefix}`, path: MANIFEST_PATH });
    } else if (!checksums.has(path)) {
      problems.push({ code: 'FILE_MISSING', message: `${MANIFEST_PATH}: ${field}: ${path} is not in the bundle (SHA256SUMS does not list it)`, path });
    }
  };
  const group = (kind: string, name: string) => {
    if (isComponent(name)) return true;
    problems.push({ code: 'BUNDLE_FORMAT', message: `${MANIFEST_PATH}: ${kind}: ${JSON.stringify(name)} is not a name (one path component)`, path: MANIFEST_PATH });
    return false;
  };
  for (const [environment, files] of Object.entries(manifest.configs)) {
    if (!group('configs', environment)) continue;
    files.forEach((file, index) => named(`configs.${environment}[${index}].path`, file.path, `${CONFIGS_DIR}${environment}/`));
  }
  for (const [database, migrations] of Object.entries(manifest.migrations)) {
    if (!group('migrations', database)) continue;
    migrations.forEach((migration, index) => {
      named(`migrations.${database}[${index}].path`, migration.path, `${MIGRATIONS_DIR}${database}/`);
      if (migration.undo !== undefined) named(`migrations.${database}[${index}].undo`, migration.undo, `${MIGRATIONS_DIR}${database}/`);
    });
  }
  for (const phase of HOOK_PHASES) {
    // A health gate names no file: its query is all of it.
    manifest.hooks[phase].forEach((hook, index) => 'path' in hook && named(`hooks.${phase}[${index}].path`, hook.path, HOOKS_DIR));
  }
  manifest.images.forEach((image, index) => {
    if (image.verify?.key) named(`images[${index}].verify.key.path`, image.verify.key.path, SUPPLY_CHAIN_DIR);
  });
  if (manifest.trustedRoot !== undefined) named('trustedRoot', manifest.trustedRoot, SUPPLY_CHAIN_DIR);
  return problems;
}

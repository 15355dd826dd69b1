/**
 * The pure core of collection: from a validated release manifest and a listing of its
 * sources, the bundle's payload files (configs, migrations, hooks; sorted byte-wise) and
 * the parts of airlock.json that describe them, or every problem found.
 */
import type { PayloadFile } from '../bundle/payload.js';
import type { BundleConfigFile, BundleManifest, BundleMigration } from '../manifest/bundle-manifest.js';
import { HOOK_PHASES, type ReleaseManifest } from '../manifest/release.js';
import type { ManifestProblem } from '../manifest/release-problems.js';
import { PackContext } from './pack-context.js';
import { packConfigs } from './pack-configs.js';
import { packHooks } from './pack-hooks.js';
import { packMigrations } from './pack-migrations.js';
import type { SourceListing } from './source-listing.js';

export interface PackedRelease {
  /** Payload files in bundle order (byte-wise by path); sources are absolute paths under the manifest's directory. */
  files: PayloadFile[];
  configs: Record<string, BundleConfigFile[]>;
  migrations: Record<string, BundleMigration[]>;
  hooks: BundleManifest['hooks'];
  /** The newest mtime among the source files read (the manifest's own, once collected), for resolveCreated; -Infinity when none was. */
  newestInputMs: number;
}

export type PackResult = { ok: true; packed: PackedRelease } | { ok: false; problems: ManifestProblem[] };

/** Every path packing will look up, relative to the manifest's directory: what listSources must list. */
export function sourcePaths(manifest: ReleaseManifest): string[] {
  return [
    ...Object.values(manifest.configs).flatMap((entries) => entries.map((entry) => entry.src)),
    ...Object.values(manifest.migrations).map((db) => db.dir),
    ...HOOK_PHASES.flatMap((phase) => manifest.hooks[phase].flatMap((hook) => ('script' in hook ? [hook.script] : []))),
  ];
}

/** `root` is the manifest's directory, used only to make payload sources absolute. */
export function packRelease(manifest: ReleaseManifest, listing: SourceListing, root: string): PackResult {
  const context = new PackContext(listing, root);
  const configs = packConfigs(context, manifest);
  const migrations = packMigrations(context, manifest);
  const hooks = packHooks(context, manifest);
  if (context.problems.length > 0) return { ok: false, problems: context.problems };
  return { ok: true, packed: { files: context.payload(), configs, migrations, hooks, newestInputMs: context.newestInputMs() } };
}

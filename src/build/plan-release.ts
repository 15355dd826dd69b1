/**
 * The pure core of collection: from a validated release manifest and a listing of its
 * sources, the bundle's payload files (configs, migrations, hooks; sorted byte-wise) and
 * the parts of airlock.json that describe them, or every problem found.
 */
import type { PayloadFile } from '../bundle/payload.js';
import type { BundleConfigFile, BundleManifest, BundleMigration } from '../manifest/bundle-manifest.js';
import { HOOK_PHASES, type ReleaseManifest } from '../manifest/release.js';
import type { ManifestProblem } from '../manifest/release-problems.js';
import { PlanContext, type InputFile } from './plan-context.js';
import { planConfigs } from './plan-configs.js';
import { planHooks } from './plan-hooks.js';
import { planMigrations } from './plan-migrations.js';
import type { SourceListing } from './source-listing.js';

export type { InputFile } from './plan-context.js';

export interface PlannedRelease {
  /** Payload files in bundle order (byte-wise by path); sources are absolute paths under the manifest's directory. */
  files: PayloadFile[];
  configs: Record<string, BundleConfigFile[]>;
  migrations: Record<string, BundleMigration[]>;
  hooks: BundleManifest['hooks'];
  /** Every source file read, for resolveCreated. */
  inputs: InputFile[];
}

export type PlanResult = { ok: true; plan: PlannedRelease } | { ok: false; problems: ManifestProblem[] };

/** Every path the planner will look up, relative to the manifest's directory: what listSources must list. */
export function sourcePaths(manifest: ReleaseManifest): string[] {
  return [
    ...Object.values(manifest.configs).flatMap((entries) => entries.map((entry) => entry.src)),
    ...Object.values(manifest.migrations).map((db) => db.dir),
    ...HOOK_PHASES.flatMap((phase) => manifest.hooks[phase].map((hook) => hook.script)),
  ];
}

/** `root` is the manifest's directory, used only to make payload sources absolute. */
export function planRelease(manifest: ReleaseManifest, listing: SourceListing, root: string): PlanResult {
  const context = new PlanContext(listing, root);
  const configs = planConfigs(context, manifest);
  const migrations = planMigrations(context, manifest);
  const hooks = planHooks(context, manifest);
  if (context.problems.length > 0) return { ok: false, problems: context.problems };
  return { ok: true, plan: { files: context.payload(), configs, migrations, hooks, inputs: context.inputFiles() } };
}

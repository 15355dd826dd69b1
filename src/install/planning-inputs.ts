/**
 * The I/O edge of install planning: what the site holds, read into the data the pure planners
 * take. Database histories need no payload byte (migrations are known by their signed
 * checksums), so a release that would change an applied migration is refused before the
 * payload is hashed or anyone is asked for a variable; config files need the rendered
 * templates, so they come after.
 */
import type { Site, SiteVariables } from '../manifest/site.js';
import type { SignedRelease, VerifiedBundle } from '../verify/verified-bundle.js';
import { desiredConfig, existingConfigs, type ConfigSource } from './configs.js';
import { Databases } from './databases.js';
import type { InstallPlanInputs, DatabasePlan } from './plan-install.js';
import { planPendingMigrations } from './plan-pending-migrations.js';
import { releaseConfigs, statePaths, type ReleaseRecord } from './state.js';

/** Each database the release migrates: opened (and locked, unless only planning), its history read, its pending migrations planned. */
export async function planDatabases(site: Site, release: SignedRelease, databases: Databases, options: { lock: boolean }): Promise<DatabasePlan[]> {
  const wanted = Object.entries(release.manifest.migrations)
    .filter(([, migrations]) => migrations.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  Databases.check(
    site,
    wanted.map(([db]) => db),
  );
  const plans: DatabasePlan[] = [];
  for (const [db, migrations] of wanted) {
    const target = await databases.get(db, options);
    const files = migrations.map((m) => ({ version: m.version, description: m.description, path: m.path, checksum: release.checksum(m.path) }));
    plans.push({ ...planPendingMigrations(db, files, await target.history()), target: target.description });
  }
  return plans;
}

/** The release's config files as they would be written, and what the config root holds at those paths and at the installed release's. */
export async function surveyConfigs(
  site: Site,
  current: ReleaseRecord | undefined,
  bundle: VerifiedBundle,
  sources: ReadonlyMap<string, ConfigSource>,
  variables: SiteVariables,
): Promise<InstallPlanInputs['configs']> {
  const desired = [...sources.values()].map((source) => desiredConfig(bundle, source, variables));
  const managed = current === undefined ? {} : await releaseConfigs(site.stateDir, current);
  const dests = new Set([...desired.map((d) => d.dest), ...Object.keys(managed)]);
  const existing = await existingConfigs(site.configRoot, dests, managed, (id) => statePaths(site.stateDir).install(id), variables);
  return { desired, existing, managed: new Set(Object.keys(managed)) };
}

/**
 * The installer's own checks on a verified bundle, before anything is planned: is it meant
 * for this site and environment, and is it newer than what is installed. Pure.
 */
import { AirlockError } from '../errors.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { compareVersions } from '../manifest/semver.js';

export interface InstalledRelease {
  name: string;
  version: string;
}

export interface VersionOverrides {
  allowDowngrade: boolean;
  reinstall: boolean;
}

/** An empty target list means "anywhere" (docs/MANIFEST.md). */
export function checkTarget(manifest: BundleManifest, site: { site: string; environment: string }): void {
  const { sites, environments } = manifest.targets;
  const release = `${manifest.name} ${manifest.version}`;
  if (sites.length > 0 && !sites.includes(site.site)) {
    throw new AirlockError('WRONG_TARGET', `${release} is for site ${sites.join(', ')}, not ${site.site}`);
  }
  if (environments.length > 0 && !environments.includes(site.environment)) {
    throw new AirlockError('WRONG_TARGET', `${release} is for environment ${environments.join(', ')}, not ${site.environment} (site ${site.site})`);
  }
}

/** Returns the overrides that were needed, for the audit log. */
export function checkVersion(manifest: BundleManifest, installed: InstalledRelease | undefined, overrides: VersionOverrides): string[] {
  if (installed === undefined) return [];
  if (installed.name !== manifest.name) {
    // Another product on the same site state would mix two releases' configs: one site, one release line.
    throw new AirlockError('WRONG_TARGET', `this site has ${installed.name} ${installed.version} installed; ${manifest.name} needs a site (stateDir) of its own`);
  }
  const order = compareVersions(manifest.version, installed.version);
  if (order > 0) return [];
  if (order === 0) {
    if (overrides.reinstall) return ['--reinstall'];
    throw new AirlockError('DOWNGRADE', `${manifest.name} ${manifest.version} is already installed; pass --reinstall to install it again`);
  }
  if (overrides.allowDowngrade) return ['--allow-downgrade'];
  throw new AirlockError(
    'DOWNGRADE',
    `${manifest.name} ${manifest.version} is older than the installed ${installed.version}; pass --allow-downgrade to install it anyway (or use airlock rollback)`,
  );
}

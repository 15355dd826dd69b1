/**
 * The installer's own checks on a signed release, before any payload byte is read: is it meant
 * for this site and environment, and is it newer than what is installed and than anything ever
 * installed here; or is it the very bundle the site has, so there is nothing to do. Pure.
 */
import { AirlockError } from '../base/errors.js';
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

/** The installed release, as far as the version check is concerned. */
export interface CurrentRelease extends InstalledRelease {
  /** sha256 of the SHA256SUMS it was installed from. */
  bundleDigest: string;
  health: 'passed' | 'failed' | 'none';
}

/** What a site has had: the installed release, and the highest version ever installed (rollback protection). */
export interface SiteReleases {
  current?: CurrentRelease;
  highest?: InstalledRelease;
}

/** An install, with the overrides it needed; or nothing to do: this very bundle is installed and healthy (or untested). */
export type VersionVerdict = { action: 'install'; overrides: string[] } | { action: 'none' };

/** The highest version among these, as a bare name and version (nothing else of a release record). */
export function highestOf(releases: ReadonlyArray<InstalledRelease | undefined>): InstalledRelease | undefined {
  let highest: InstalledRelease | undefined;
  for (const release of releases) {
    if (release !== undefined && (highest === undefined || compareVersions(release.version, highest.version) > 0)) highest = release;
  }
  return highest && { name: highest.name, version: highest.version };
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

/**
 * Newer than the installed release, and not older than the highest version the site ever
 * had: after `airlock rollback` the installed release is older than that, and the way back
 * is rollback, not an old bundle. The same version as the installed one is nothing to do when
 * it is the same bundle (its content digest, the sha256 of SHA256SUMS, is the installed one's),
 * and a refusal when it is not: a rebuilt bundle of an installed version is another release.
 */
export function checkVersion(release: { manifest: BundleManifest; digest: string }, site: SiteReleases, overrides: VersionOverrides): VersionVerdict {
  const { manifest } = release;
  const { current } = site;
  const highest = highestOf([site.highest, current]);
  if (highest === undefined) return { action: 'install', overrides: [] };
  const line = current ?? highest;
  if (line.name !== manifest.name) {
    // Another product on the same site state would mix two releases' configs: one site, one release line.
    throw new AirlockError('WRONG_TARGET', `this site has ${current ? '' : 'had '}${line.name} ${line.version} installed; ${manifest.name} needs a site (stateDir) of its own`);
  }
  const name = `${manifest.name} ${manifest.version}`;
  if (compareVersions(manifest.version, highest.version) < 0) {
    if (overrides.allowDowngrade) return { action: 'install', overrides: ['--allow-downgrade'] };
    throw new AirlockError(
      'DOWNGRADE',
      current?.version === highest.version
        ? `${name} is older than the installed ${highest.version}; pass --allow-downgrade to install it anyway (or use airlock rollback)`
        : `${name} is older than ${highest.version}, the highest version installed on this site (${current ? `${current.version} is installed now` : 'nothing is installed now'}); ` +
            'pass --allow-downgrade to install it anyway (airlock rollback is the way back to an earlier release)',
    );
  }
  // Not older than the highest, which is at least the installed version: an upgrade or the same version.
  if (current === undefined || compareVersions(manifest.version, current.version) > 0) return { action: 'install', overrides: [] };
  if (overrides.reinstall) return { action: 'install', overrides: ['--reinstall'] };
  if (release.digest !== current.bundleDigest) {
    throw new AirlockError(
      'DOWNGRADE',
      `${name} is already installed from another bundle: this bundle's content digest ${release.digest} differs from the installed one's ${current.bundleDigest} ` +
        '(sha256 of SHA256SUMS); pass --reinstall to install it in its place',
    );
  }
  if (current.health === 'failed') {
    throw new AirlockError('DOWNGRADE', `${name} is already installed from this bundle, and its health check failed; pass --reinstall to apply it again`);
  }
  return { action: 'none' };
}

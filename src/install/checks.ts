/**
 * The installer's own checks on a bundle, before anything is planned: which verification
 * problems the operator waived, is it meant for this site and environment, and is it newer
 * than what is installed and than anything ever installed here. Pure.
 */
import { AirlockError } from '../base/errors.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { compareVersions } from '../manifest/semver.js';
import type { Problem } from '../base/problem.js';

export interface InstalledRelease {
  name: string;
  version: string;
}

export interface VersionOverrides {
  allowDowngrade: boolean;
  reinstall: boolean;
}

/** What a site has had: the installed release, and the highest version ever installed (rollback protection). */
export interface SiteReleases {
  current?: InstalledRelease;
  highest?: InstalledRelease;
}

/** The highest version among these, as a bare name and version (nothing else of a release record). */
export function highestOf(releases: ReadonlyArray<InstalledRelease | undefined>): InstalledRelease | undefined {
  let highest: InstalledRelease | undefined;
  for (const release of releases) {
    if (release !== undefined && (highest === undefined || compareVersions(release.version, highest.version) > 0)) highest = release;
  }
  return highest && { name: highest.name, version: highest.version };
}

export interface Waived {
  /** Problems left: the bundle is refused if there is any. */
  problems: Problem[];
  /** Problems the operator's flags set aside, to warn about. */
  waived: Problem[];
  /** The flags that did so, for the audit log and the receipt (none when nothing was set aside). */
  overrides: string[];
}

/**
 * `--allow-expired`: a bundle past its signed expiry may be installed when everything else
 * about it verified. Expiry is the last check the verifier makes, so every other problem
 * still refuses it.
 */
export function waiveExpiry(problems: readonly Problem[], allowExpired: boolean): Waived {
  const waived = allowExpired ? problems.filter((problem) => problem.code === 'EXPIRED') : [];
  return {
    problems: problems.filter((problem) => !waived.includes(problem)),
    waived,
    overrides: waived.length > 0 ? ['--allow-expired'] : [],
  };
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
 * is rollback, not an old bundle. Returns the overrides that were needed, for the audit log.
 */
export function checkVersion(manifest: BundleManifest, site: SiteReleases, overrides: VersionOverrides): string[] {
  const { current } = site;
  const highest = highestOf([site.highest, current]);
  if (highest === undefined) return [];
  const line = current ?? highest;
  if (line.name !== manifest.name) {
    // Another product on the same site state would mix two releases' configs: one site, one release line.
    throw new AirlockError('WRONG_TARGET', `this site has ${current ? '' : 'had '}${line.name} ${line.version} installed; ${manifest.name} needs a site (stateDir) of its own`);
  }
  const release = `${manifest.name} ${manifest.version}`;
  if (compareVersions(manifest.version, highest.version) < 0) {
    if (overrides.allowDowngrade) return ['--allow-downgrade'];
    throw new AirlockError(
      'DOWNGRADE',
      current?.version === highest.version
        ? `${release} is older than the installed ${highest.version}; pass --allow-downgrade to install it anyway (or use airlock rollback)`
        : `${release} is older than ${highest.version}, the highest version installed on this site (${current ? `${current.version} is installed now` : 'nothing is installed now'}); ` +
            'pass --allow-downgrade to install it anyway (airlock rollback is the way back to an earlier release)',
    );
  }
  // Not older than the highest, which is at least the installed version: an upgrade or the same version.
  if (current === undefined || compareVersions(manifest.version, current.version) > 0) return [];
  if (overrides.reinstall) return ['--reinstall'];
  throw new AirlockError('DOWNGRADE', `${release} is already installed; pass --reinstall to install it again`);
}

/**
 * Rollback protection, as pure checks: the highest version ever installed refuses older
 * bundles whatever is installed now, and a state file from before the mark existed gets it
 * from what the site recorded. (--allow-expired is the verifier's strategy: load-verified.test.ts.)
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/install/audit.js';
import { checkVersion, highestOf } from '../../src/install/checks.js';
import { raiseHighest, siteHighest } from '../../src/install/highest.js';
import type { ReleaseRecord, SiteState } from '../../src/install/state.js';
import type { BundleManifest } from '../../src/manifest/bundle-manifest.js';
import { bundleManifest } from '../support/bundle-manifest.js';
import { fails } from '../support/errors.js';
import { releaseRecord } from '../support/install-records.js';


const manifest = (version: string, name = 'shop'): { manifest: BundleManifest; digest: string } => ({ manifest: bundleManifest({ name, version }), digest: `bundle-${name}-${version}` });
const none = { allowDowngrade: false, reinstall: false };
const shop = (version: string) => ({ name: 'shop', version });
/** Installed from the bundle manifest() builds for that version. */
const installed = (version: string) => ({ ...shop(version), bundleDigest: `bundle-shop-${version}`, health: 'passed' as const });
const install = (...overrides: string[]) => ({ action: 'install', overrides });

describe('rollback protection', () => {
  it('picks the highest version by semver precedence, as a bare name and version', () => {
    expect(highestOf([])).toBeUndefined();
    expect(highestOf([undefined, shop('1.9.0'), shop('1.10.0'), shop('1.10.0-rc.1')])).toEqual(shop('1.10.0'));
    const record = { ...shop('2.0.0'), installId: 'x', health: 'passed' };
    expect(highestOf([record])).toEqual(shop('2.0.0'));
  });

  it('refuses a bundle older than the highest version ever installed, after a rollback too, naming both versions', () => {
    const afterRollback = { current: installed('1.0.0'), highest: shop('1.1.0') };
    const message = fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), afterRollback, none));
    expect(message).toContain('shop 1.0.0 is older than 1.1.0, the highest version installed on this site');
    expect(message).toContain('1.0.0 is installed now');
    expect(message).toContain('--allow-downgrade');
    expect(message).not.toContain('\n');
    // --reinstall repeats the highest version; it never takes a bundle below it.
    fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), afterRollback, { ...none, reinstall: true }));
    expect(fails('DOWNGRADE', () => checkVersion(manifest('1.0.5'), afterRollback, none))).toContain('older than 1.1.0');
    expect(checkVersion(manifest('1.0.0'), afterRollback, { ...none, allowDowngrade: true })).toEqual(install('--allow-downgrade'));
  });

  it('lets the release a rollback left installed be reinstalled up to the highest again, without flags', () => {
    const afterRollback = { current: installed('1.0.0'), highest: shop('1.1.0') };
    expect(checkVersion(manifest('1.1.0'), afterRollback, none)).toEqual(install());
    expect(checkVersion(manifest('1.2.0'), afterRollback, none)).toEqual(install());
  });

  it('still counts the highest when nothing is installed now', () => {
    expect(fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), { highest: shop('1.1.0') }, none))).toContain('nothing is installed now');
    expect(checkVersion(manifest('1.1.0'), { highest: shop('1.1.0') }, none)).toEqual(install());
    expect(fails('WRONG_TARGET', () => checkVersion(manifest('3.0.0', 'other'), { highest: shop('1.1.0') }, none))).toContain('has had shop 1.1.0 installed');
  });

  it('treats a highest mark below the installed release (a hand-edited state) as the installed release', () => {
    expect(fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), { current: installed('1.1.0'), highest: shop('0.9.0') }, none))).toContain('older than the installed 1.1.0');
  });
});

describe('the highest mark in the state', () => {
  const release = releaseRecord;
  const state = (releases: ReleaseRecord[], highest?: { name: string; version: string }): SiteState => ({
    format: 'airlock-state/v1',
    site: 'plant-a',
    environment: 'prod',
    releases,
    ...(highest ? { highest } : {}),
  });
  const audit = { site: 'plant-a', environment: 'prod' };

  it('is taken as recorded when the state has it', () => {
    expect(siteHighest(state([release('1.0.0')], shop('1.4.0')), [])).toEqual(shop('1.4.0'));
    expect(raiseHighest(state([release('1.0.0')], shop('1.4.0')), [], shop('1.0.0'))).toEqual(shop('1.4.0'));
    expect(raiseHighest(state([release('1.4.0')], shop('1.4.0')), [], shop('1.5.0'))).toEqual(shop('1.5.0'));
  });

  it('comes from the release stack and the audit log for a state file written before it existed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-highest-'));
    const log = AuditLog.read(dir);
    expect(siteHighest(state([]), log.entries)).toBeUndefined();
    expect(siteHighest(state([release('1.0.0'), release('1.1.0')]), log.entries)).toEqual(shop('1.1.0'));
    // 1.2.0 was installed, then rolled back: only the audit log still names it. Refused and failed runs never count.
    await log.append({ ...audit, action: 'install', outcome: 'succeeded', installId: 'a', release: shop('1.2.0') });
    await log.append({ ...audit, action: 'install', outcome: 'refused', release: shop('9.0.0'), code: 'WRONG_TARGET' });
    await log.append({ ...audit, action: 'install', outcome: 'failed', installId: 'b', release: shop('8.0.0'), code: 'MIGRATION_FAILED' });
    await log.append({ ...audit, action: 'install', outcome: 'rolled-back', installId: 'c', release: shop('7.0.0'), code: 'HEALTH_CHECK_FAILED' });
    await log.append({ ...audit, action: 'rollback', outcome: 'succeeded', installId: 'd', release: shop('1.2.0') });
    expect(siteHighest(state([release('1.0.0')]), AuditLog.read(dir).entries)).toEqual(shop('1.2.0'));
    await log.append({ ...audit, action: 'install', outcome: 'unhealthy', installId: 'e', release: shop('1.3.0'), code: 'HEALTH_CHECK_FAILED' });
    expect(siteHighest(state([release('1.0.0')]), AuditLog.read(dir).entries)).toEqual(shop('1.3.0'));
  });
});

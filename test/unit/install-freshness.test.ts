/**
 * Freshness and rollback protection, as pure checks: --allow-expired sets aside only the
 * expiry, the highest version ever installed refuses older bundles whatever is installed
 * now, and a state file from before the mark existed gets it from what the site recorded.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/install/audit.js';
import { checkVersion, highestOf, waiveExpiry } from '../../src/install/checks.js';
import { raiseHighest, siteHighest } from '../../src/install/highest.js';
import type { ReleaseRecord, SiteState } from '../../src/install/state.js';
import type { BundleManifest } from '../../src/manifest/bundle-manifest.js';
import { bundleManifest } from '../support/bundle-manifest.js';
import { fails } from '../support/errors.js';
import type { Problem } from '../../src/base/problem.js';


const manifest = (version: string, name = 'shop'): BundleManifest => bundleManifest({ name, version });
const none = { allowDowngrade: false, reinstall: false };
const shop = (version: string) => ({ name: 'shop', version });

describe('--allow-expired', () => {
  const expired: Problem = { code: 'EXPIRED', message: 'shop 1.0.0 expired at 2020-01-02T00:00:00Z', path: 'airlock.json' };
  const tampered: Problem = { code: 'DIGEST_MISMATCH', message: 'configs/prod/app.yaml: sha256 mismatch', path: 'configs/prod/app.yaml' };

  it('sets aside an expiry, and only when asked', () => {
    expect(waiveExpiry([expired], true)).toEqual({ problems: [], waived: [expired], overrides: ['--allow-expired'] });
    expect(waiveExpiry([expired], false)).toEqual({ problems: [expired], waived: [], overrides: [] });
  });

  it('is not recorded when nothing was expired', () => {
    expect(waiveExpiry([], true)).toEqual({ problems: [], waived: [], overrides: [] });
  });

  it('never sets aside any other problem', () => {
    expect(waiveExpiry([tampered], true)).toEqual({ problems: [tampered], waived: [], overrides: [] });
    expect(waiveExpiry([tampered, expired], true).problems).toEqual([tampered]);
  });
});

describe('rollback protection', () => {
  it('picks the highest version by semver precedence, as a bare name and version', () => {
    expect(highestOf([])).toBeUndefined();
    expect(highestOf([undefined, shop('1.9.0'), shop('1.10.0'), shop('1.10.0-rc.1')])).toEqual(shop('1.10.0'));
    const record = { ...shop('2.0.0'), installId: 'x', health: 'passed' };
    expect(highestOf([record])).toEqual(shop('2.0.0'));
  });

  it('refuses a bundle older than the highest version ever installed, after a rollback too, naming both versions', () => {
    const afterRollback = { current: shop('1.0.0'), highest: shop('1.1.0') };
    const message = fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), afterRollback, none));
    expect(message).toContain('shop 1.0.0 is older than 1.1.0, the highest version installed on this site');
    expect(message).toContain('1.0.0 is installed now');
    expect(message).toContain('--allow-downgrade');
    expect(message).not.toContain('\n');
    // --reinstall repeats the highest version; it never takes a bundle below it.
    fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), afterRollback, { ...none, reinstall: true }));
    expect(fails('DOWNGRADE', () => checkVersion(manifest('1.0.5'), afterRollback, none))).toContain('older than 1.1.0');
    expect(checkVersion(manifest('1.0.0'), afterRollback, { ...none, allowDowngrade: true })).toEqual(['--allow-downgrade']);
  });

  it('lets the release a rollback left installed be reinstalled up to the highest again, without flags', () => {
    const afterRollback = { current: shop('1.0.0'), highest: shop('1.1.0') };
    expect(checkVersion(manifest('1.1.0'), afterRollback, none)).toEqual([]);
    expect(checkVersion(manifest('1.2.0'), afterRollback, none)).toEqual([]);
  });

  it('still counts the highest when nothing is installed now', () => {
    expect(fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), { highest: shop('1.1.0') }, none))).toContain('nothing is installed now');
    expect(checkVersion(manifest('1.1.0'), { highest: shop('1.1.0') }, none)).toEqual([]);
    expect(fails('WRONG_TARGET', () => checkVersion(manifest('3.0.0', 'other'), { highest: shop('1.1.0') }, none))).toContain('has had shop 1.1.0 installed');
  });

  it('treats a highest mark below the installed release (a hand-edited state) as the installed release', () => {
    expect(fails('DOWNGRADE', () => checkVersion(manifest('1.0.0'), { current: shop('1.1.0'), highest: shop('0.9.0') }, none))).toContain('older than the installed 1.1.0');
  });
});

describe('the highest mark in the state', () => {
  const release = (version: string): ReleaseRecord => ({
    installId: `run-${version}`,
    name: 'shop',
    version,
    bundleDigest: 'd',
    bundleFile: 'f',
    signers: [],
    installedAt: '2026-01-01T00:00:00Z',
    installedBy: 'root',
    host: 'h',
    health: 'passed',
    configs: {},
    images: [],
    migrations: {},
    receipt: 'r',
  });
  const state = (releases: ReleaseRecord[], highest?: { name: string; version: string }): SiteState => ({
    format: 'airlock-state/v1',
    site: 'plant-a',
    environment: 'prod',
    releases,
    ...(highest ? { highest } : {}),
  });
  const audit = { site: 'plant-a', environment: 'prod' };

  it('is taken as recorded when the state has it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-highest-'));
    expect(siteHighest(dir, state([release('1.0.0')], shop('1.4.0')))).toEqual(shop('1.4.0'));
    expect(raiseHighest(dir, state([release('1.0.0')], shop('1.4.0')), shop('1.0.0'))).toEqual(shop('1.4.0'));
    expect(raiseHighest(dir, state([release('1.4.0')], shop('1.4.0')), shop('1.5.0'))).toEqual(shop('1.5.0'));
  });

  it('comes from the release stack and the audit log for a state file written before it existed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-highest-'));
    expect(siteHighest(dir, state([]))).toBeUndefined();
    expect(siteHighest(dir, state([release('1.0.0'), release('1.1.0')]))).toEqual(shop('1.1.0'));
    // 1.2.0 was installed, then rolled back: only the audit log still names it. Refused and failed runs never count.
    await appendAudit(dir, { ...audit, action: 'install', outcome: 'succeeded', installId: 'a', release: shop('1.2.0') });
    await appendAudit(dir, { ...audit, action: 'install', outcome: 'refused', release: shop('9.0.0'), code: 'WRONG_TARGET' });
    await appendAudit(dir, { ...audit, action: 'install', outcome: 'failed', installId: 'b', release: shop('8.0.0'), code: 'MIGRATION_FAILED' });
    await appendAudit(dir, { ...audit, action: 'install', outcome: 'rolled-back', installId: 'c', release: shop('7.0.0'), code: 'HEALTH_CHECK_FAILED' });
    await appendAudit(dir, { ...audit, action: 'rollback', outcome: 'succeeded', installId: 'd', release: shop('1.2.0') });
    expect(siteHighest(dir, state([release('1.0.0')]))).toEqual(shop('1.2.0'));
    await appendAudit(dir, { ...audit, action: 'install', outcome: 'unhealthy', installId: 'e', release: shop('1.3.0'), code: 'HEALTH_CHECK_FAILED' });
    expect(siteHighest(dir, state([release('1.0.0')]))).toEqual(shop('1.3.0'));
  });
});

/**
 * Freshness and rollback protection through the real CLI, on a SQLite site with embedded
 * defaults: an expired bundle is refused and changes nothing; `--allow-expired` installs it
 * with a warning and records the override (audit log, receipt), also from the media's own
 * installer; the highest version ever installed is kept in state.json across runs, so after
 * `airlock rollback` an old bundle is refused unless `--allow-downgrade`, which is recorded.
 */
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { auditLines, exampleReleases, install, makeFixture, makeSite, shopVariant, snapshot, type Fixture, type TestSite } from '../support/install-fixture.js';

let fixture: Fixture;
let v100: string;
let v110: string;
let expired: string;

beforeAll(async () => {
  fixture = await makeFixture();
  ({ v100, v110 } = await exampleReleases(fixture));
  // Without SOURCE_DATE_EPOCH the manifest's created time counts: signed in 2020, expired a day later.
  expired = await shopVariant(fixture, {
    version: '1.2.0',
    top: 'created: 2020-01-01T00:00:00Z\nexpires: 1d\ntargets:\n  environments: [staging, prod]',
    env: { SOURCE_DATE_EPOCH: '' },
  });
}, 120_000);

async function siteWith(...bundles: string[]): Promise<TestSite> {
  const site = await makeSite(fixture);
  for (const bundle of bundles) {
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(0);
  }
  return site;
}

async function rollback(site: TestSite): Promise<void> {
  const result = await runCli(['rollback', '--site', site.file, '--yes']);
  expect(result.code, result.stderr).toBe(0);
}

const stateFile = (site: TestSite) => join(site.state, 'state.json');
const readStateJson = async (site: TestSite) => JSON.parse(await readFile(stateFile(site), 'utf8')) as { highest?: unknown; releases: Array<{ version: string }> };

/** Everything a refusal must leave alone: configs, schema, state (byte for byte), receipts and run directories. */
async function untouched(site: TestSite) {
  return {
    ...(await snapshot(site)),
    stateJson: await readFile(stateFile(site), 'utf8'),
    receipts: (await readdir(join(site.state, 'receipts'))).sort(),
    installs: (await readdir(join(site.state, 'installs'))).sort(),
  };
}

async function status(site: TestSite) {
  const text = await runCli(['status', '--site', site.file]);
  const json = await runCli(['status', '--site', site.file, '--json']);
  expect(json.code, json.stderr).toBe(0);
  return { text: text.stdout, json: JSON.parse(json.stdout) as { installed: { version: string; receipt: string } | null; highest: unknown } };
}

async function lastReceipt(site: TestSite): Promise<{ overrides: string[]; release: { version: string }; outcome: string }> {
  const { json } = await status(site);
  return JSON.parse(await readFile(json.installed!.receipt, 'utf8'));
}

describe('expiry', () => {
  it('refuses an expired bundle without changing the site, and airlock verify keeps reporting it', async () => {
    const site = await siteWith(v100);
    const before = await untouched(site);
    const audit = await auditLines(site);

    const result = await install(expired, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('EXPIRED'));
    expect(result.stderr).toMatch(/EXPIRED: shop 1\.2\.0 expired at 2020-01-02T00:00:00Z/);
    expect(await untouched(site)).toEqual(before);
    expect(await auditLines(site)).toEqual([...audit, expect.objectContaining({ outcome: 'refused', code: 'EXPIRED', overrides: [], release: { name: 'shop', version: '1.2.0' } })]);

    // The override belongs to the installer only: verify states the facts.
    const verified = await runCli(['verify', expired, '--trust', fixture.trust]);
    expect(verified.code).toBe(exitCodeFor('EXPIRED'));
    expect((await runCli(['verify', expired, '--trust', fixture.trust, '--allow-expired'])).code).toBe(exitCodeFor('USAGE'));
  });

  it('installs an expired bundle with --allow-expired, warns, and records the override in the audit log and the receipt', async () => {
    const site = await siteWith(v100);
    const result = await install(expired, site, '--allow-expired');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/WARNING: shop 1\.2\.0 expired at 2020-01-02T00:00:00Z .*--allow-expired overrides this/);
    expect(result.stdout).toContain('overrides  --allow-expired');
    expect((await auditLines(site)).at(-1)).toMatchObject({ action: 'install', outcome: 'succeeded', release: { version: '1.2.0' }, overrides: ['--allow-expired'] });
    expect(await lastReceipt(site)).toMatchObject({ outcome: 'succeeded', release: { version: '1.2.0' }, overrides: ['--allow-expired'] });
    expect((await status(site)).json.installed?.version).toBe('1.2.0');

    // The same command again: already installed from this bundle, nothing to do (and nothing recorded).
    const again = await install(expired, site, '--allow-expired');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('shop 1.2.0 is already installed');
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'succeeded', release: { version: '1.2.0' } });

    // A refusal for another reason still says the expiry was set aside.
    const dev = await makeSite(fixture, { environment: 'dev' });
    const elsewhere = await install(expired, dev, '--allow-expired');
    expect(elsewhere.code).toBe(exitCodeFor('WRONG_TARGET'));
    expect((await auditLines(dev)).at(-1)).toMatchObject({ outcome: 'refused', code: 'WRONG_TARGET', overrides: ['--allow-expired'] });
  });

  it('records nothing when --allow-expired is given for a bundle that has not expired', async () => {
    const site = await makeSite(fixture);
    const result = await install(v100, site, '--allow-expired');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('WARNING');
    expect(result.stdout).not.toContain('overrides');
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'succeeded', overrides: [] });
    expect((await lastReceipt(site)).overrides).toEqual([]);
  });

  it('finishes an install interrupted before the bundle expired only with --allow-expired, and records it', async () => {
    const created = Math.floor(Date.now() / 1000);
    const soon = await shopVariant(fixture, { version: '1.3.0', top: 'expires: 20s\ntargets:\n  environments: [staging, prod]', env: { SOURCE_DATE_EPOCH: String(created) } });
    const site = await siteWith(v100);
    const crashed = await runCli(['install', soon, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: 'start:configs:1' } });
    expect(crashed.code, crashed.stderr).toBe(-1);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (created + 21) * 1000 - Date.now())));

    const refused = await install(soon, site);
    expect(refused.code, refused.stderr).toBe(exitCodeFor('EXPIRED'));
    expect((await readdir(site.state)).includes('journal.jsonl')).toBe(true);
    const finished = await install(soon, site, '--allow-expired');
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toContain('Resuming the interrupted install');
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'succeeded', release: { version: '1.3.0' }, overrides: ['--allow-expired'], resumed: true });
    expect(await lastReceipt(site)).toMatchObject({ outcome: 'succeeded', release: { version: '1.3.0' }, overrides: ['--allow-expired'] });
  }, 60_000);

  it("gives the media's own installer the same flag", async () => {
    const media = await mkdtemp(join(tmpdir(), 'airlock-media-'));
    const written = await runCli(['media', 'write', expired, '--to', media, '--key', join(fixture.dir, 'keys', 'build.key.pem')], { env: fixture.env });
    expect(written.code, written.stderr).toBe(0);
    const site = await makeSite(fixture);
    const installer = (...args: string[]) =>
      execa(process.execPath, [join(media, 'airlock-installer.mjs'), 'install', media, '--site', site.file, '--yes', ...args], { cwd: '/', reject: false });
    const refused = await installer();
    expect(refused.exitCode, refused.stderr).toBe(exitCodeFor('EXPIRED'));
    const allowed = await installer('--allow-expired');
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('WARNING: shop 1.2.0 expired');
    expect((await auditLines(site)).map((e) => `${e.outcome}:${(e.overrides as string[]).join(' ')}`)).toEqual(['refused:', 'succeeded:--allow-expired']);
  });
});

describe('rollback protection', () => {
  it('refuses the older bundle after a rollback, unless --allow-downgrade, which is recorded; the highest version persists', async () => {
    const site = await siteWith(v100, v110);
    expect((await readStateJson(site)).highest).toEqual({ name: 'shop', version: '1.1.0' });
    await rollback(site);
    const state = await readStateJson(site);
    expect(state.releases.map((r) => r.version)).toEqual(['1.0.0']);
    expect(state.highest).toEqual({ name: 'shop', version: '1.1.0' });
    const shown = await status(site);
    expect(shown.json).toMatchObject({ installed: { version: '1.0.0' }, highest: { name: 'shop', version: '1.1.0' } });
    expect(shown.text).toMatch(/highest\s+shop 1\.1\.0 was installed here: older bundles are refused/);

    const before = await untouched(site);
    const audit = await auditLines(site);
    for (const flags of [[], ['--reinstall']]) {
      const refused = await install(v100, site, ...flags);
      expect(refused.code, refused.stderr).toBe(exitCodeFor('DOWNGRADE'));
      expect(refused.stderr).toBe(
        'airlock: DOWNGRADE: shop 1.0.0 is older than 1.1.0, the highest version installed on this site (1.0.0 is installed now); ' +
          'pass --allow-downgrade to install it anyway (airlock rollback is the way back to an earlier release)\n',
      );
      expect(await untouched(site)).toEqual(before);
    }
    expect((await auditLines(site)).slice(audit.length)).toEqual([
      expect.objectContaining({ outcome: 'refused', code: 'DOWNGRADE', overrides: [] }),
      expect.objectContaining({ outcome: 'refused', code: 'DOWNGRADE', overrides: [] }),
    ]);

    const allowed = await install(v100, site, '--allow-downgrade');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'succeeded', release: { version: '1.0.0' }, overrides: ['--allow-downgrade'] });
    expect(await lastReceipt(site)).toMatchObject({ release: { version: '1.0.0' }, overrides: ['--allow-downgrade'] });
    // Neither the rollback nor the downgrade lowered the mark, across all these runs.
    expect((await readStateJson(site)).highest).toEqual({ name: 'shop', version: '1.1.0' });
    expect((await install(v100, site)).code).toBe(exitCodeFor('DOWNGRADE'));

    // Forward again needs no flag; the status then has nothing extra to say.
    const forward = await install(v110, site);
    expect(forward.code, forward.stderr).toBe(0);
    const after = await status(site);
    expect(after.json).toMatchObject({ installed: { version: '1.1.0' }, highest: { name: 'shop', version: '1.1.0' } });
    expect(after.text).not.toContain('highest');
  });

  it('takes the mark from the release stack and the audit log when state.json predates it', async () => {
    const site = await siteWith(v100, v110);
    await rollback(site);
    // A state file written before the mark existed: after the rollback it no longer names 1.1.0.
    const { highest: _, ...legacy } = await readStateJson(site);
    await writeFile(stateFile(site), `${JSON.stringify(legacy, null, 2)}\n`);
    expect((await status(site)).json.highest).toEqual({ name: 'shop', version: '1.1.0' });
    const refused = await install(v100, site);
    expect(refused.code).toBe(exitCodeFor('DOWNGRADE'));
    expect(refused.stderr).toContain('older than 1.1.0, the highest version installed on this site');
    expect((await readStateJson(site)).highest).toBeUndefined();
    // The next recorded install writes the mark.
    expect((await install(v110, site)).code).toBe(0);
    expect((await readStateJson(site)).highest).toEqual({ name: 'shop', version: '1.1.0' });
  });
});

/**
 * What `airlock install` refuses, in which order, and what it leaves behind: every refusal that
 * needs no payload byte comes before the payload is hashed and before anyone is asked for a
 * variable; every refusal, down to a bundle that cannot even be scanned, leaves exactly one
 * `refused` line in the audit log and nothing else; and a whole install scans the bundle and
 * checks its signatures once.
 */
import { execa } from 'execa';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runInstall, type InstallRequest } from '../../src/install/install.js';
import { CLI, runCli } from '../support/cli.js';
import { recordingOutput } from '../support/images.js';
import { watchedBundle } from '../support/watched-bundle.js';
import { auditLines, exampleReleases, install, makeFixture, makeSite, shopVariant, snapshot, type Fixture, type TestSite } from '../support/install-fixture.js';

let fixture: Fixture;
let v100: string;
let v110: string;

beforeAll(async () => {
  fixture = await makeFixture();
  ({ v100, v110 } = await exampleReleases(fixture));
}, 120_000);

async function installed(bundle: string): Promise<TestSite> {
  const site = await makeSite(fixture);
  const result = await install(bundle, site);
  expect(result.code, result.stderr).toBe(0);
  return site;
}

/** A copy of `bundle` with one payload byte flipped: its signatures still verify, its payload does not. */
async function tamperedCopy(bundle: string, name: string): Promise<string> {
  const bytes = await readFile(bundle);
  const at = bytes.indexOf(Buffer.from('-- The lines of an order'));
  expect(at).toBeGreaterThan(0);
  bytes[at] = bytes[at]! ^ 1;
  const file = join(fixture.dir, name);
  await writeFile(file, bytes);
  return file;
}

async function digestOf(bundle: string): Promise<string> {
  return (JSON.parse((await runCli(['inspect', bundle, '--json'])).stdout) as { checksumsDigest: string }).checksumsDigest;
}

/** Runs `fn` and expects exactly one new audit line, a refusal with `code`, and no other change to the site. */
async function refusedOnce(site: TestSite, code: string, fn: () => Promise<{ code: number; stderr: string }>): Promise<Record<string, unknown>> {
  const before = await snapshot(site);
  const audit = await auditLines(site);
  const result = await fn();
  expect(result.code, result.stderr).toBe(exitCodeFor(code as never));
  expect(result.stderr).toContain(`${code}:`);
  expect(await snapshot(site)).toEqual(before);
  const after = await auditLines(site);
  expect(after.slice(0, audit.length)).toEqual(audit);
  expect(after.slice(audit.length)).toEqual([expect.objectContaining({ action: 'install', outcome: 'refused', code })]);
  return after.at(-1)!;
}

describe('refusals, each audited once', () => {
  it('audits a bundle that cannot even be scanned: not a tar, cut short, or not there', async () => {
    const site = await installed(v100);
    const garbage = join(fixture.dir, 'garbage.airlock');
    await writeFile(garbage, Buffer.alloc(4096, 0x41));
    const cut = join(fixture.dir, 'cut.airlock');
    await writeFile(cut, await readFile(v110));
    await truncate(cut, Math.floor((await readFile(v110)).length * 0.6));
    const missing = join(fixture.dir, 'no-such.airlock');
    for (const [bundle, code] of [
      [garbage, 'BUNDLE_FORMAT'],
      [cut, 'BUNDLE_TRUNCATED'],
      [missing, 'INPUT_NOT_FOUND'],
    ] as const) {
      const line = await refusedOnce(site, code, () => install(bundle, site));
      expect(line).toMatchObject({ bundleFile: bundle, site: 'plant-a', environment: 'prod' });
      // Nothing about it was vouched for: no release, no digest, no signer is recorded.
      expect(line.release).toBeUndefined();
      expect(line.signers).toEqual([]);
    }
  });

  it('names the release of a bundle refused after its signatures passed, with its digest and signers', async () => {
    const site = await installed(v110);
    const line = await refusedOnce(site, 'DOWNGRADE', () => install(v100, site));
    expect(line).toMatchObject({ release: { name: 'shop', version: '1.0.0' }, bundleDigest: await digestOf(v100), signers: [expect.objectContaining({ name: 'build' })] });
  });
});

describe('the order of the checks', () => {
  it('refuses a bundle for another site as WRONG_TARGET before the variables it lacks, with --yes', async () => {
    const elsewhere = await shopVariant(fixture, { version: '1.3.0', top: 'expires: 730d\ntargets:\n  sites: [plant-b]\n  environments: [staging, prod]' });
    const site = await makeSite(fixture, { variables: { db_host: 'db', smtp_host: 'mail' } });
    await refusedOnce(site, 'WRONG_TARGET', () => install(elsewhere, site));
    // The same site with the bundle that is for it: now the missing variable is what stops it.
    await refusedOnce(site, 'VARIABLE_MISSING', () => install(v100, site));
  });

  it('never asks an operator for a secret before saying the bundle is not for this site (or expired)', async () => {
    const elsewhere = await shopVariant(fixture, { version: '1.3.0', top: 'expires: 730d\ntargets:\n  sites: [plant-b]\n  environments: [staging, prod]' });
    const expired = await shopVariant(fixture, { version: '1.2.0', top: 'created: 2020-01-01T00:00:00Z\nexpires: 1d\ntargets:\n  environments: [staging, prod]', env: { SOURCE_DATE_EPOCH: '' } });
    const site = await makeSite(fixture, { variables: { db_host: 'db', smtp_host: 'mail' } });
    for (const [bundle, code] of [
      [elsewhere, 'WRONG_TARGET'],
      [expired, 'EXPIRED'],
    ] as const) {
      // script(1) gives the CLI a real terminal, where a missing variable would be asked for; nobody answers.
      const session = await execa('bash', ['-c', '(sleep 5) | script -qec "$CMD" /dev/null'], {
        env: { CMD: `${process.execPath} ${CLI} install ${bundle} --site ${site.file}` },
        reject: false,
        timeout: 30_000,
      });
      expect(session.stdout).toContain(`${code}:`);
      expect(session.stdout).not.toContain('Value for');
      expect(session.stdout).not.toContain('Apply this plan?');
    }
  });

  it('refuses a tampered bundle for another site as WRONG_TARGET: no payload byte is hashed first', async () => {
    const elsewhere = await shopVariant(fixture, { version: '1.3.0', top: 'expires: 730d\ntargets:\n  sites: [plant-b]\n  environments: [staging, prod]' });
    const site = await installed(v100);
    const tampered = await tamperedCopy(elsewhere, 'tampered-elsewhere.airlock');
    await refusedOnce(site, 'WRONG_TARGET', () => install(tampered, site));
  });

  it('refuses a rebuilt bundle of the installed version, naming both content digests in full', async () => {
    const site = await installed(v110);
    const rebuilt = await shopVariant(fixture, { top: 'expires: 365d\ntargets:\n  environments: [staging, prod]' });
    const [installedDigest, rebuiltDigest] = [await digestOf(v110), await digestOf(rebuilt)];
    expect(rebuiltDigest).not.toBe(installedDigest);
    const result = await install(rebuilt, site);
    expect(result.code).toBe(exitCodeFor('DOWNGRADE'));
    expect(result.stderr).toBe(
      `airlock: DOWNGRADE: shop 1.1.0 is already installed from another bundle: this bundle's content digest ${rebuiltDigest} differs from the installed one's ${installedDigest} ` +
        '(sha256 of SHA256SUMS); pass --reinstall to install it in its place\n',
    );
    expect((await install(rebuilt, site, '--reinstall')).code).toBe(0);
  });

  it("takes a damaged copy of the installed bundle for what it is: the installed release, nothing to do, nothing read", async () => {
    const site = await installed(v110);
    const audit = await auditLines(site);
    const result = await install(await tamperedCopy(v110, 'tampered-installed.airlock'), site);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('already installed');
    expect(await auditLines(site)).toEqual(audit);
    // --reinstall reads the payload: now the damage shows.
    const reinstall = await install(join(fixture.dir, 'tampered-installed.airlock'), site, '--reinstall');
    expect(reinstall.code).toBe(exitCodeFor('DIGEST_MISMATCH'));
    expect(reinstall.stderr).toContain('V4__create_order_items.sql');
  });
});

/** A bundle file whose reads are counted: a read at byte 0 starts a header scan, one of the signature's data is a signature check. */
async function countingBundle(file: string): Promise<{ input: InstallRequest['bundle']; scans: () => number; signatureChecks: () => number }> {
  let scans = 0;
  let signatureChecks = 0;
  const watched = await watchedBundle(file, (position) => {
    if (position === 0) scans++;
    if (watched.entries.some((entry) => entry.path.endsWith('.sig') && entry.dataOffset === position)) signatureChecks++;
  });
  return { input: watched.input, scans: () => scans, signatureChecks: () => signatureChecks };
}

describe('one scan, one signature check', () => {
  it('per install: a first install, the same again (nothing to do), and --reinstall', async () => {
    const site = await makeSite(fixture);
    const request = (bundle: InstallRequest['bundle'], reinstall = false): InstallRequest => ({
      bundle,
      siteFile: site.file,
      yes: true,
      planOnly: false,
      allowDowngrade: false,
      reinstall,
      allowExpired: false,
      interactive: false,
      now: new Date(),
    });
    for (const [what, reinstall, outcome] of [
      ['first install', false, 'succeeded'],
      ['the same again', false, 'unchanged'],
      ['--reinstall', true, 'succeeded'],
    ] as const) {
      const counted = await countingBundle(v100);
      const output = recordingOutput();
      const report = await runInstall(output, request(counted.input, reinstall));
      expect(report.outcome, `${what}: ${output.lines.join('\n')}`).toBe(outcome);
      expect([counted.scans(), counted.signatureChecks()], what).toEqual([1, 1]);
    }
  });
});

/**
 * Delta releases into an OCI layout target (the embedded default), end to end through the real
 * CLI: receipts from real installs say what the layout holds; a delta built against them carries
 * only what the site lacks, rebuilds byte-identically, verifies with airlock and stock tools, and
 * installs to exactly the layout the full bundle gives; a site missing a base blob (removed, or
 * corrupt under --verify-base), a delta against another site's receipt and a tampered omitted list
 * are refused before anything changes; two receipts leave out only what both sites hold; media
 * volumes carry a delta and serve as a base.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleSigner } from '../../src/build/signers.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { bytesPayload } from '../../src/bundle/payload.js';
import { writeBundle } from '../../src/bundle/write.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { loadSigningKey } from '../../src/trust/keys.js';
import { runCli } from '../support/cli.js';
import { deltaOf, exportReceipt, holdingsOf, lastReceipt, makeDeltaFixture, REFS, treeHashes, type DeltaFixture } from '../support/delta-fixture.js';
import { skopeo } from '../support/images.js';
import { auditLines, configFiles, copySite, install, makeSite, snapshot, type TestSite } from '../support/install-fixture.js';
import { bundleEntries, craftTar, flipByteAt } from '../support/tar-craft.js';

let fx: DeltaFixture;
/** Sites at 1.0.0, copied for each case: plant-a ran shop 1.0.0 (app1, app2), plant-w the other 1.0.0 (app1, multi). */
let siteA: TestSite;
let siteW: TestSite;
let receiptA: string;
let receiptW: string;
/** The delta of 1.1.0 against plant-a's install receipt. */
let delta: string;
let base: string;
let app2Layer: string;

const blobFile = (site: TestSite, digest: string) => join(site.dir, 'images', 'blobs', 'sha256', digest.slice('sha256:'.length));
const layersOf = async (digest: string) =>
  (JSON.parse(await readFile(join(fx.images.layoutDir, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> }).layers.map((l) => l.digest);
const sorted = (digests: string[]) => [...digests].sort();

/** Everything a refused install must leave as it was: configs, database, state, and every file of the layout. */
async function siteState(site: TestSite) {
  return { ...(await snapshot(site)), images: await treeHashes(join(site.dir, 'images')) };
}

function refusedWith(result: { code: number; stderr: string }, code: 'DELTA_BASE_MISSING' | 'DIGEST_MISMATCH' | 'SIGNATURE_INVALID' | 'FILE_MISSING', ...texts: string[]) {
  expect(result.code, result.stderr).toBe(exitCodeFor(code));
  expect(result.stderr).toContain(`airlock: ${code}: `);
  for (const text of texts) expect(result.stderr).toContain(text);
}

beforeAll(async () => {
  fx = await makeDeltaFixture();
  siteA = await makeSite(fx);
  siteW = await makeSite(fx, { site: 'plant-w' });
  for (const [site, bundle] of [
    [siteA, fx.v100],
    [siteW, fx.v100w],
  ] as const) {
    const result = await install(bundle, site);
    expect(result.code, result.stderr).toBe(0);
  }
  [receiptA, receiptW] = await Promise.all([lastReceipt(siteA), lastReceipt(siteW)]);
  const built = await fx.build110(['--since', receiptA]);
  expect(built.result.code, built.result.stderr).toBe(0);
  delta = built.bundle;
  base = fx.images.baseLayerDigest;
  app2Layer = (await layersOf(fx.images.app2.descriptor.digest))[1]!;
}, 120_000);

describe('receipts', () => {
  it("list every config and layer blob the site's OCI layout holds for the installed images, with site, release and content digest; status --receipt exports the same", async () => {
    const holdings = await holdingsOf(receiptA);
    const status = JSON.parse((await runCli(['status', '--site', siteA.file, '--json'])).stdout) as { installed: { bundleDigest: string } };
    expect(holdings.site).toBe('plant-a');
    expect(holdings.release).toEqual({ name: 'shop', version: '1.0.0', digest: status.installed.bundleDigest });
    expect(holdings.targets).toHaveLength(1);
    const [target] = holdings.targets;
    expect(target).toMatchObject({ kind: 'oci-layout', location: join(siteA.dir, 'images') });
    expect(target!.images.map((image) => [image.ref, image.present])).toEqual([
      [REFS.app1, true],
      [REFS.app2, true],
    ]);
    const manifests = [fx.images.app1.descriptor.digest, fx.images.app2.descriptor.digest];
    const expected = sorted([...new Set([...fx.images.app1.blobs, ...fx.images.app2.blobs])].filter((digest) => !manifests.includes(digest)));
    expect(target!.blobs.map((blob) => blob.digest)).toEqual(expected);
    for (const blob of target!.blobs) expect(blob.size).toBe((await readFile(blobFile(siteA, blob.digest))).length);

    const exported = await holdingsOf(await exportReceipt(siteA));
    expect({ ...exported, surveyedAt: '' }).toEqual({ ...holdings, surveyedAt: '' });
  });
});

describe('a delta against the site receipt', () => {
  it('leaves out exactly the layers the site holds, says so in the signed airlock.json, and rebuilds byte-identically', async () => {
    const record = await deltaOf(delta);
    expect(record?.omitted.map((blob) => blob.digest)).toEqual(sorted([base, app2Layer]));
    expect(record?.bases).toEqual([{ kind: 'receipt', site: 'plant-a', release: (await holdingsOf(receiptA)).release }]);
    const again = await fx.build110(['--since', receiptA]);
    expect(again.result.code, again.result.stderr).toBe(0);
    expect((await readFile(again.bundle)).equals(await readFile(delta))).toBe(true);

    const reader = await BundleReader.open(delta);
    const paths = reader.entries.map((entry) => entry.path);
    await reader.close();
    for (const digest of [base, app2Layer]) expect(paths).not.toContain(`blobs/sha256/${digest.slice(7)}`);
    for (const digest of [fx.app1v2Layer, fx.app3Layer]) expect(paths).toContain(`blobs/sha256/${digest.slice(7)}`);
    // Configs and manifests always travel, even of an image whose every layer the site holds.
    for (const digest of fx.images.app2.blobs.filter((d) => d !== app2Layer && d !== base)) expect(paths).toContain(`blobs/sha256/${digest.slice(7)}`);
    expect(again.result.stdout).toContain('delta against site plant-a (shop 1.0.0');
  });

  it('verifies with airlock (text and --json say delta, and of which base) and with stock tar and sha256sum', async () => {
    const text = await runCli(['verify', delta, '--trust', fx.trust]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/delta {5}against site plant-a \(shop 1\.0\.0, content [0-9a-f]{16}…\)/);
    expect(text.stdout).toContain('leaves out 2 layer blob(s)');
    expect(text.stdout).toContain('result    VERIFIED');
    const json = JSON.parse((await runCli(['verify', delta, '--trust', fx.trust, '--json'])).stdout) as { ok: boolean; delta: { bases: Array<{ site: string }>; omitted: unknown[] } };
    expect(json.ok).toBe(true);
    expect(json.delta.bases.map((b) => b.site)).toEqual(['plant-a']);
    expect(json.delta.omitted).toHaveLength(2);
    const out = await mkdtemp(join(tmpdir(), 'airlock-delta-tar-'));
    await execa('tar', ['-xf', delta, '-C', out]);
    const sums = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    expect(sums.stdout.split('\n').every((line) => line.endsWith(': OK'))).toBe(true);
    expect(sums.stdout).not.toContain(base.slice(7));
  });

  it('installs to exactly the layout (and configs) the full bundle of the same release gives', async () => {
    const viaDelta = await copySite(siteA);
    const viaFull = await copySite(siteA);
    const result = await install(delta, viaDelta);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Delta against site plant-a (shop 1.0.0');
    expect(result.stdout).toContain('the 2 layer blob(s) it leaves out');
    expect((await install(fx.v110, viaFull)).code).toBe(0);
    expect(await treeHashes(join(viaDelta.dir, 'images'))).toEqual(await treeHashes(join(viaFull.dir, 'images')));
    expect(await configFiles(viaDelta)).toEqual(await configFiles(viaFull));
    // What a runtime reads: skopeo copies every image out of the layout the delta filled.
    for (const ref of [REFS.app1v2, REFS.app2, REFS.app3, REFS.multi]) await skopeo(['copy', '--all', `oci:${join(viaDelta.dir, 'images')}:${ref}`, `oci:${join(viaDelta.dir, 'copy')}:x`]);
  });

  it('is shown by inspect and the officer report: bases, delta against full size, and the layers left out per image', async () => {
    const text = await runCli(['inspect', delta]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/delta {5}against site plant-a \(shop 1\.0\.0/);
    expect(text.stdout).toMatch(/here; the full bundle ≈ [\d.]+ KiB: 2 layer blob\(s\)/);
    const json = JSON.parse((await runCli(['inspect', delta, '--json'])).stdout) as {
      size: number;
      delta: { bundleBytes: number; fullBytes: number; omittedBytes: number; images: Array<{ ref: string; omitted: Array<{ digest: string }> }> };
    };
    const sizes = new Map((await deltaOf(delta))!.omitted.map((blob) => [blob.digest, blob.size]));
    expect(json.delta.bundleBytes).toBe(json.size);
    expect(json.delta.omittedBytes).toBe([...sizes.values()].reduce((a, b) => a + b, 0));
    // About the full bundle: within a few hundred bytes (SHA256SUMS lines, airlock.json's record).
    expect(Math.abs(json.delta.fullBytes - (await readFile(fx.v110)).length)).toBeLessThan(2048);
    const perImage = Object.fromEntries(json.delta.images.map((image) => [image.ref, image.omitted.map((blob) => blob.digest)]));
    expect(perImage).toEqual({ [REFS.app1v2]: [base], [REFS.app2]: [base, app2Layer], [REFS.app3]: [base], [REFS.multi]: [base] });
    for (const [format, heading] of [['md', '## Delta'], ['html', '<h2>Delta</h2>']] as const) {
      const file = join(fx.dir, `delta-report.${format}`);
      const report = await runCli(['inspect', delta, '--report', file, '--trust', fx.trust]);
      expect(report.code, report.stderr).toBe(0);
      const body = await readFile(file, 'utf8');
      expect(body).toContain(heading);
      expect(body).toContain(base);
      expect(body).toContain('site plant-a (shop 1.0.0');
    }
  });

  it('is finished by the same command after a kill between image pushes, to the same layout', { timeout: 60_000 }, async () => {
    const site = await copySite(siteA);
    const crashed = await runCli(['install', delta, '--site', site.file, '--yes'], { env: { AIRLOCK_TEST_CRASH_AT: `done:image:${REFS.app2}` } });
    expect(crashed.code, crashed.stderr).toBe(-1);
    const rerun = await install(delta, site);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('Resuming the interrupted install');
    expect(rerun.stdout).toContain('Delta against site plant-a');
    const viaFull = await copySite(siteA);
    expect((await install(fx.v110, viaFull)).code).toBe(0);
    expect(await treeHashes(join(site.dir, 'images'))).toEqual(await treeHashes(join(viaFull.dir, 'images')));
  });

  it('is readable by stock skopeo only as far as it carries blobs: inspect works, a copy that needs an omitted layer fails on it', async () => {
    expect(JSON.parse(await skopeo(['inspect', '--raw', `oci-archive:${delta}:${REFS.app1v2}`])).layers[0].digest).toBe(base);
    const copy = await execa('skopeo', ['copy', `oci-archive:${delta}:${REFS.app1v2}`, `oci:${await mkdtemp(join(tmpdir(), 'airlock-skopeo-'))}:x`], { reject: false });
    expect(copy.exitCode).not.toBe(0);
    expect(copy.stderr).toContain(`reading blob ${base}`);
  });
});

describe('install refuses a delta the site cannot complete, before changing anything', () => {
  it('when the site removed a base blob (DELTA_BASE_MISSING, naming count, digest, images and what to do); a fresh receipt no longer claims it', async () => {
    const site = await copySite(siteA);
    await rm(blobFile(site, base));
    const before = await siteState(site);
    const result = await install(delta, site);
    refusedWith(result, 'DELTA_BASE_MISSING', '1 of the 2 layer blob(s) it leaves out are not in OCI layout', base, REFS.app1v2, REFS.app3, 'Nothing was changed', 'airlock status --site', 'ship the full bundle');
    expect(await siteState(site)).toEqual(before);
    expect((await auditLines(site)).at(-1)).toMatchObject({ outcome: 'refused', code: 'DELTA_BASE_MISSING', release: { version: '1.1.0' } });
    const planOnly = await install(delta, site, '--plan-only');
    refusedWith(planOnly, 'DELTA_BASE_MISSING', base);

    const fresh = await holdingsOf(await exportReceipt(site));
    expect(fresh.targets[0]!.blobs.map((blob) => blob.digest)).not.toContain(base);
    const rebuilt = await fx.build110(['--since', join(site.dir, 'receipt.json')]);
    expect((await deltaOf(rebuilt.bundle))?.omitted.map((blob) => blob.digest)).toEqual([app2Layer]);
    expect((await install(rebuilt.bundle, site)).code).toBe(0);
  });

  it('when a base blob is corrupt and --verify-base re-hashes it (a lookup alone finds the file of the right size)', async () => {
    const site = await copySite(siteA);
    await flipByteAt(blobFile(site, base), 1000);
    const planned = await install(delta, site, '--plan-only');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('are in OCI layout');
    const before = await siteState(site);
    const result = await install(delta, site, '--verify-base');
    refusedWith(result, 'DELTA_BASE_MISSING', `are corrupt in OCI layout ${join(site.dir, 'images')} (--verify-base re-hashed them)`, `${base} (corrupt)`);
    expect(await siteState(site)).toEqual(before);
    const healthy = await install(delta, await copySite(siteA), '--verify-base');
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stdout).toContain('each re-hashed (--verify-base)');
  });

  it("when the delta was built against another site's receipt", async () => {
    const wrong = await fx.build110(['--since', receiptW]);
    expect(wrong.result.code, wrong.result.stderr).toBe(0);
    const multiLayers = sorted([...(await layersOf(fx.images.multiAmd64.digest)), ...(await layersOf(fx.images.multiArm64.digest))].filter((d) => d !== base));
    expect((await deltaOf(wrong.bundle))?.omitted.map((blob) => blob.digest)).toEqual(sorted([base, ...multiLayers]));
    const site = await copySite(siteA);
    const before = await siteState(site);
    refusedWith(await install(wrong.bundle, site), 'DELTA_BASE_MISSING', 'is a delta against site plant-w (shop 1.0.0', '2 of the 3 layer blob(s)', REFS.multi, multiLayers[0]!);
    expect(await siteState(site)).toEqual(before);
    expect((await install(wrong.bundle, await copySite(siteW))).code).toBe(0);
  });

  it('when its omitted list was tampered with: airlock.json no longer matches SHA256SUMS, or SHA256SUMS no longer matches the signature', async () => {
    const entries = await bundleEntries(delta);
    const manifest = JSON.parse(entries.find((e) => e.path === 'airlock.json')!.data!.toString()) as { delta: { omitted: unknown[] } };
    manifest.delta.omitted = manifest.delta.omitted.slice(1);
    const edited = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const relisted = (data: Buffer) => Buffer.from(data.toString().replace(/^[0-9a-f]{64}(?=  airlock\.json$)/m, createHash('sha256').update(edited).digest('hex')));
    const variants = {
      DIGEST_MISMATCH: entries.map((e) => (e.path === 'airlock.json' ? { ...e, data: edited } : e)),
      SIGNATURE_INVALID: entries.map((e) => (e.path === 'airlock.json' ? { ...e, data: edited } : e.path === 'SHA256SUMS' ? { ...e, data: relisted(e.data!) } : e)),
    } as const;
    for (const [code, tampered] of Object.entries(variants) as Array<[keyof typeof variants, typeof entries]>) {
      const file = join(fx.dir, `tampered-${code}.airlock`);
      await writeFile(file, craftTar(tampered));
      refusedWith(await runCli(['verify', file, '--trust', fx.trust]), code);
      const site = await copySite(siteA);
      const before = await siteState(site);
      refusedWith(await install(file, site), code);
      expect(await siteState(site)).toEqual(before);
    }
  });

  it('when a validly signed omitted list does not fit the image graph (verify names the blob)', async () => {
    const entries = await bundleEntries(delta);
    const manifest = JSON.parse(entries.find((e) => e.path === 'airlock.json')!.data!.toString()) as { created: string; delta: { omitted: Array<{ digest: string; size: number }> } };
    const key = await loadSigningKey(join(fx.dir, 'keys', 'build.key.pem'), fx.env.AIRLOCK_PASSPHRASE!);
    const resign = async (name: string, omitted: Array<{ digest: string; size: number }>, drop: string[] = []) => {
      const file = join(fx.dir, `${name}.airlock`);
      await writeBundle({
        file,
        manifest: Buffer.from(`${JSON.stringify({ ...manifest, delta: { ...manifest.delta, omitted } }, null, 2)}\n`),
        payload: entries
          .filter((e) => !['SHA256SUMS', 'airlock.json'].includes(e.path) && !e.path.startsWith('signatures/') && !drop.includes(e.path))
          .map((e) => bytesPayload(e.path, e.data!, e.path.startsWith('hooks/') ? 0o755 : 0o644)),
        signers: [bundleSigner(key)],
        mtime: new Date(manifest.created),
      });
      return file;
    };
    const [first, second] = manifest.delta.omitted;
    const shortList = await resign('short-list', [second!]);
    refusedWith(await runCli(['verify', shortList, '--trust', fx.trust]), 'FILE_MISSING', `blobs/sha256/${first!.digest.slice(7)} (needed by`, "is neither in the bundle nor in airlock.json's delta.omitted");
    const config = fx.images.app2.blobs.find((d) => d !== app2Layer && d !== base && d !== fx.images.app2.descriptor.digest)!;
    const configSize = (await readFile(join(fx.images.layoutDir, 'blobs', 'sha256', config.slice(7)))).length;
    const withConfig = await resign('omits-config', sorted([first!.digest, second!.digest, config]).map((d) => [first!, second!].find((b) => b.digest === d) ?? { digest: d, size: configSize }), [`blobs/sha256/${config.slice(7)}`]);
    const result = await runCli(['verify', withConfig, '--trust', fx.trust]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(`${config} is a config or artifact, which a delta always carries`);
  });
});

describe('a fleet: two receipts', () => {
  it('leave out only the layers both sites hold, and the delta installs on each', async () => {
    const fleet = await fx.build110(['--since', receiptW, '--since', receiptA]);
    expect(fleet.result.code, fleet.result.stderr).toBe(0);
    const record = await deltaOf(fleet.bundle);
    expect(record?.omitted.map((blob) => blob.digest)).toEqual([base]);
    expect((record?.bases as Array<{ site: string }>).map((b) => b.site)).toEqual(['plant-a', 'plant-w']);
    expect(fleet.result.stdout).toContain('delta against site plant-a (shop 1.0.0');
    for (const site of [await copySite(siteA), await copySite(siteW)]) {
      const result = await install(fleet.bundle, site);
      expect(result.code, result.stderr).toBe(0);
    }
  });
});

describe('deltas and release media', () => {
  it('a delta goes onto media volumes, media verify and the installer on them handle it, and media (or an earlier bundle) serve as a base', async () => {
    const media = join(fx.dir, 'media-delta');
    await mkdir(media);
    const key = join(fx.dir, 'keys', 'build.key.pem');
    const written = await runCli(['media', 'write', delta, '--to', media, '--volume-size', '32K', '--key', key], { env: fx.env });
    expect(written.code, written.stderr).toBe(0);
    const checked = await runCli(['media', 'verify', media, '--trust', fx.trust]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('delta     against site plant-a');
    const viaMedia = await copySite(siteA);
    // The installer the media carry, reading the bundle straight from the volumes.
    const installed = await execa(process.execPath, [join(media, 'airlock-installer.mjs'), 'install', media, '--site', viaMedia.file, '--yes'], { reject: false });
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('Delta against site plant-a');
    const viaFull = await copySite(siteA);
    expect((await install(fx.v110, viaFull)).code).toBe(0);
    expect(await treeHashes(join(viaMedia.dir, 'images'))).toEqual(await treeHashes(join(viaFull.dir, 'images')));

    // The 1.0.0 release as a base, on media or as the bundle file: its blobs count as held.
    const media100 = join(fx.dir, 'media-100');
    await mkdir(media100);
    expect((await runCli(['media', 'write', fx.v100, '--to', media100, '--volume-size', '32K', '--key', key], { env: fx.env })).code).toBe(0);
    const [fromMedia, fromBundle] = [await fx.build110(['--since', media100]), await fx.build110(['--since', fx.v100])];
    for (const built of [fromMedia, fromBundle]) expect(built.result.code, built.result.stderr).toBe(0);
    const record = await deltaOf(fromMedia.bundle);
    expect(record?.omitted.map((blob) => blob.digest)).toEqual(sorted([base, app2Layer]));
    expect(record?.bases).toEqual([{ kind: 'bundle', site: null, release: { name: 'shop', version: '1.0.0', digest: (await holdingsOf(receiptA)).release!.digest } }]);
    expect((await readFile(fromMedia.bundle)).equals(await readFile(fromBundle.bundle))).toBe(true);
  });

  it('refuses a --since that is no receipt, naming the file and field', async () => {
    const bogus = join(fx.dir, 'not-a-receipt.json');
    await writeFile(bogus, JSON.stringify({ format: 'airlock-receipt/v1', holdings: { site: 'x' } }));
    const result = await fx.build110(['--since', bogus]);
    expect(result.result.code).toBe(exitCodeFor('RECEIPT_INVALID'));
    expect(result.result.stderr).toContain(`airlock: RECEIPT_INVALID: ${bogus}`);
    expect(result.result.stderr).toContain('holdings.environment');
    const missing = await fx.build110(['--since', join(fx.dir, 'nowhere.json')]);
    expect(missing.result.code).toBe(exitCodeFor('INPUT_NOT_FOUND'));
  });
});

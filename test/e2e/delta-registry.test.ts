/**
 * Delta releases into real registries (CNCF distribution on loopback), receipts from real
 * installs: the delta leaves the registry exactly as the full bundle does (tags, manifests and the
 * layers each repository links, read from the registry's own storage; digests as skopeo sees
 * them), mounting an omitted layer into a repository that never had it; --verify-base re-reads
 * each base blob; a blob deleted from the registry is refused before anything changes; two sites'
 * receipts leave out only what both registries hold; a receipt exported after a rollback says
 * what the site then holds.
 */
import { execa } from 'execa';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { deltaOf, exportReceipt, holdingsOf, lastReceipt, makeDeltaFixture, registryState, REFS, type DeltaFixture } from '../support/delta-fixture.js';
import { registryDigest, skopeo } from '../support/images.js';
import { install, makeSite, snapshot, type TestSite } from '../support/install-fixture.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let fx: DeltaFixture;
const registries: TestRegistry[] = [];
const REFS_110 = [REFS.app1v2, REFS.app2, REFS.app3, REFS.multi];
const repositoryOf = (ref: string) => ref.replace('registry.example.internal/', '').replace(/:[^:]+$/, '');
const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);

/** A fresh registry and a site pushing to it, with `bundle` installed. */
async function siteWith(bundle: string, name = 'plant-a'): Promise<{ registry: TestRegistry; site: TestSite }> {
  const registry = await startRegistry();
  registries.push(registry);
  const site = await makeSite(fx, { site: name, images: `{ registry: "${registry.host}", insecure: true }` });
  const result = await install(bundle, site);
  expect(result.code, result.stderr).toBe(0);
  return { registry, site };
}

beforeAll(async () => {
  fx = await makeDeltaFixture();
}, 120_000);
afterAll(async () => {
  await Promise.all(registries.map((registry) => registry.stop()));
});

describe('a delta into a registry', () => {
  it('leaves it exactly as the full bundle does, mounting an omitted layer where a new repository needs it; --verify-base re-reads each', { timeout: 120_000 }, async () => {
    const a = await siteWith(fx.v100);
    const receipt = await lastReceipt(a.site);
    const holdings = await holdingsOf(receipt);
    expect(holdings.targets[0]).toMatchObject({ kind: 'registry', location: a.registry.host });
    expect(holdings.targets[0]!.blobs.find((blob) => blob.digest === fx.images.baseLayerDigest)?.repositories).toEqual(['shop/app1', 'shop/app2']);

    const built = await fx.build110(['--since', receipt]);
    expect(built.result.code, built.result.stderr).toBe(0);
    expect((await deltaOf(built.bundle))?.omitted.map((blob) => blob.digest)).toContain(fx.images.baseLayerDigest);

    const b = await siteWith(fx.v100);
    expect((await install(fx.v110, b.site)).code).toBe(0);
    const result = await install(built.bundle, a.site, '--verify-base', '--verbose');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`are in registry ${a.registry.host}, each re-hashed (--verify-base)`);
    // shop/app3 is new: its base layer, left out of the bundle, is mounted from a repository that has it.
    expect(result.stderr).toContain(`${REFS.app3} -> ${a.registry.host}/shop/app3:1.0: blob ${fx.images.baseLayerDigest} mounted`);
    expect(result.stderr).not.toMatch(new RegExp(`blob ${fx.images.baseLayerDigest} uploaded`));

    const state = await registryState(a.registry.storageDir);
    expect(Object.keys(state)).toEqual(['shop/app1', 'shop/app2', 'shop/app3', 'shop/multi']);
    expect(state['shop/app3']!.layers).toContain(fx.images.baseLayerDigest);
    expect(state['shop/app1']!.tags).toMatchObject({ '1.0': fx.images.app1.descriptor.digest, '1.1': expect.stringMatching(/^sha256:/) });
    expect(state).toEqual(await registryState(b.registry.storageDir));
    for (const ref of REFS_110) {
      const at = (registry: TestRegistry) => registryDigest(`${registry.host}/${repositoryOf(ref)}:${tagOf(ref)}`);
      expect(await at(a.registry)).toBe(await at(b.registry));
      await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${a.registry.host}/${repositoryOf(ref)}:${tagOf(ref)}`, `oci:${await mkdtemp(join(tmpdir(), 'airlock-pull-'))}:x`]);
    }

    // Stock skopeo copies a delta's image into a registry repository that holds its omitted layers (it asks
    // before it reads a blob), not into a registry that has none of them.
    const into = (host: string) => execa('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${built.bundle}:${REFS.app2}`, `docker://${host}/shop/app2:copied`], { reject: false });
    expect((await into(a.registry.host)).exitCode).toBe(0);
    const empty = await startRegistry();
    registries.push(empty);
    const elsewhere = await into(empty.host);
    expect(elsewhere.exitCode).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/reading blob sha256:[0-9a-f]{64}: .*no such file or directory/);

    // After a rollback the receipt says what the site then has installed: 1.0.0 and its images only.
    expect((await runCli(['rollback', '--site', a.site.file, '--yes'])).code).toBe(0);
    const after = await holdingsOf(await exportReceipt(a.site));
    expect(after.release?.version).toBe('1.0.0');
    expect(after.targets[0]!.images.map((image) => image.ref)).toEqual([REFS.app1, REFS.app2]);
  });

  it('is refused, with nothing changed, when the registry no longer holds a base blob (deleted by digest); a fresh receipt does not claim it', { timeout: 60_000 }, async () => {
    const { registry, site } = await siteWith(fx.v100);
    const built = await fx.build110(['--since', await lastReceipt(site)]);
    const base = fx.images.baseLayerDigest;
    for (const repository of ['shop/app1', 'shop/app2']) {
      const response = await fetch(`http://${registry.host}/v2/${repository}/blobs/${base}`, { method: 'DELETE' });
      expect(response.status).toBe(202);
    }
    const before = { site: await snapshot(site), registry: await registryState(registry.storageDir) };
    const result = await install(built.bundle, site);
    expect(result.code, result.stderr).toBe(exitCodeFor('DELTA_BASE_MISSING'));
    expect(result.stderr).toContain(`airlock: DELTA_BASE_MISSING: shop 1.1.0 is a delta against site plant-a (shop 1.0.0`);
    expect(result.stderr).toContain(`1 of the 2 layer blob(s) it leaves out are not in registry ${registry.host}: ${base} of ${REFS.app1v2}, ${REFS.app2}, ${REFS.app3}, ${REFS.multi}`);
    expect({ site: await snapshot(site), registry: await registryState(registry.storageDir) }).toEqual(before);
    const fresh = await holdingsOf(await exportReceipt(site));
    expect(fresh.targets[0]!.blobs.map((blob) => blob.digest)).not.toContain(base);
  });
});

describe('a fleet of two sites', () => {
  it('gets one delta that leaves out only the layers both registries hold, and installs on each', { timeout: 90_000 }, async () => {
    const [a, w] = [await siteWith(fx.v100), await siteWith(fx.v100w, 'plant-w')];
    const built = await fx.build110(['--since', await lastReceipt(a.site), '--since', await lastReceipt(w.site)]);
    expect(built.result.code, built.result.stderr).toBe(0);
    expect((await deltaOf(built.bundle))?.omitted.map((blob) => blob.digest)).toEqual([fx.images.baseLayerDigest]);
    for (const { registry, site } of [a, w]) {
      const result = await install(built.bundle, site);
      expect(result.code, result.stderr).toBe(0);
      for (const ref of REFS_110) expect(await registryDigest(`${registry.host}/${repositoryOf(ref)}:${tagOf(ref)}`)).toMatch(/^sha256:/);
    }
  });
});

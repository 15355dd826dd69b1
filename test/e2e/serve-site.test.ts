/**
 * `airlock serve --site site.yaml`: the site's own OCI layout image store, filled by a real
 * `airlock install`, served read-only with the same API. Artifacts that tools list in index.json
 * without a ref (as attached signatures are) join their subject's repository and its referrers.
 */
import { cp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { LayoutBuilder, registryDigest, sha256, skopeo, type Descriptor } from '../support/images.js';
import { install, makeSite, type TestSite } from '../support/install-fixture.js';
import { makeServeFixture, servedAs, SHOP, type ServeFixture } from '../support/serve-fixture.js';
import { curl, json, startServe, type ServeProcess } from '../support/serve.js';

let fixture: ServeFixture;
let site: TestSite;
let layout: string;
let attestation: Descriptor;

beforeAll(async () => {
  fixture = await makeServeFixture();
  site = await makeSite(fixture.fixture);
  const installed = await install(fixture.bundle, site);
  expect(installed.code, installed.stderr).toBe(0);
  layout = join(site.dir, 'images');
  // Another tool attaches an attestation to app1 in the site's store: blobs in, one untagged index.json entry.
  const extra = new LayoutBuilder();
  attestation = extra.artifact(fixture.images.app1.descriptor, { artifactType: 'application/vnd.in-toto+json', payload: '{"predicateType":"https://slsa.dev/provenance/v1"}', payloadType: 'application/vnd.in-toto+json' });
  extra.untagged(attestation);
  const orphan = extra.artifact({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'6'.repeat(64)}`, size: 10 }, { artifactType: 'application/vnd.example', payload: 'x', payloadType: 'text/plain' });
  extra.untagged(orphan);
  const staged = join(site.dir, 'staged-layout');
  await extra.write(staged);
  await cp(join(staged, 'blobs'), join(layout, 'blobs'), { recursive: true });
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
  index.manifests.push(attestation, orphan);
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  await rm(staged, { recursive: true });
}, 180_000);

describe('airlock serve --site', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe(['--site', site.file]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("serves the images the site installed, by tag, with the bundle's digests", async () => {
    expect(server.listening).toMatchObject({ source: 'site', site: 'plant-a', environment: 'prod', layout });
    for (const ref of [`${SHOP}/app1:1.0`, `${SHOP}/multi:1.0`, 'docker.io/library/big:2']) {
      expect(await registryDigest(servedAs(server.host, ref)), ref).toBe(fixture.refs[ref]);
    }
    const dir = join(site.dir, 'pulled');
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${servedAs(server.host, `${SHOP}/multi:1.0`)}`, `oci:${dir}:x`]);
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests[0].digest).toBe(fixture.refs[`${SHOP}/multi:1.0`]);
  });

  it('lists an untagged artifact of the store among its subject\'s referrers, and serves it by digest', async () => {
    const referrers = json(await curl(`${server.url}/v2/shop/app1/referrers/${fixture.images.app1.descriptor.digest}`)) as { manifests: Array<{ digest: string; artifactType?: string }> };
    expect(referrers.manifests.map((m) => m.digest).sort()).toEqual([attestation.digest, fixture.signature.digest, fixture.sbom.digest].sort());
    expect(referrers.manifests.find((m) => m.digest === attestation.digest)?.artifactType).toBe('application/vnd.in-toto+json');
    const manifest = await curl(`${server.url}/v2/shop/app1/manifests/${attestation.digest}`);
    expect(sha256(manifest.body)).toBe(attestation.digest);
    // An artifact attached to nothing served has no repository: said at start, not served.
    expect(server.stderr()).toContain('has no ref.name and is attached to no served image');
  });

  it('cuts the connection on a blob of the store whose bytes changed', async () => {
    const blob = join(layout, 'blobs', 'sha256', fixture.images.baseLayerDigest.slice(7));
    const handle = await open(blob, 'r+');
    await handle.write(Buffer.from('rot'), 0, 3, 1000);
    await handle.close();
    const size = (await stat(blob)).size;
    const got = await curl(`${server.url}/v2/shop/app2/blobs/${fixture.images.baseLayerDigest}`);
    // The layer is smaller than one read: held back whole, so not even the headers went out.
    expect(size).toBeLessThan(256 * 1024);
    expect(got.status).toBe(0);
    expect(got.body.length).toBe(0);
    expect(got.curlCode).not.toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.stderr()).toContain(`shop/app2@${fixture.images.baseLayerDigest}`);
  });
});

describe('what airlock serve refuses to start with', () => {
  it('a site whose image target is a registry: that registry serves them already', async () => {
    const registrySite = await makeSite(fixture.fixture, { images: '{ registry: "reg.internal:5000", insecure: true }' });
    const result = await runCli(['serve', '--site', registrySite.file, '--listen', '127.0.0.1:0']);
    expect(result.code).toBe(exitCodeFor('USAGE'));
    expect(result.stderr).toContain('the registry reg.internal:5000 as its images target');
  });

  it('two images that would be served under one repository:tag with different content, naming both', async () => {
    const bundle = await fixture.fixture.build(
      ['name: clash', 'version: 1.0.0', 'targets:', '  environments: [prod]', 'images:', '  - { ref: "docker.io/acme/app:1", ociLayout: images-layout, tag: app1 }', '  - { ref: "quay.io/acme/app:1", ociLayout: images-layout, tag: app2 }', ''].join('\n'),
    );
    const result = await runCli(['serve', bundle, '--trust', fixture.fixture.trust, '--listen', '127.0.0.1:0']);
    expect(result.code).toBe(exitCodeFor('USAGE'));
    expect(result.stderr).toContain('docker.io/acme/app:1 and quay.io/acme/app:1 would both be served as 127.0.0.1:0/acme/app:1');
  });

  it('a bundle without --trust, both a bundle and --site, --trust with --site, a half TLS pair, an unknown runtime, a bad --listen', async () => {
    const cases: Array<[string[], string]> = [
      [[fixture.bundle], '--trust <dir> is needed'],
      [[fixture.bundle, '--site', site.file, '--trust', fixture.fixture.trust], 'one of the two'],
      [['--site', site.file, '--trust', fixture.fixture.trust], '--trust is for a bundle'],
      [[fixture.bundle, '--trust', fixture.fixture.trust, '--tls-cert', 'x.pem'], '--tls-cert and --tls-key go together'],
      [[fixture.bundle, '--trust', fixture.fixture.trust, '--print-config', 'kubelet'], '--print-config kubelet: expected containerd, crio, docker'],
      [[fixture.bundle, '--trust', fixture.fixture.trust, '--listen', 'localhost'], '--listen localhost: expected host:port'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['serve', ...args]);
      expect(result.code, args.join(' ')).toBe(exitCodeFor('USAGE'));
      expect(result.stderr).toContain(message);
    }
  });
});

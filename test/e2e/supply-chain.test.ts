/**
 * Upstream evidence end to end, through the real CLI and real CNCF distribution registries (which
 * lack the referrers API, so the referrers tag fallback is what is exercised): cosign signatures
 * and DSSE attestations made by openssl and pushed with skopeo, an SPDX SBOM as an OCI 1.1
 * referrer, buildx-style attestation manifests in an index, and a real Sigstore bundle from
 * sigstore-conformance (test/fixtures/sigstore/). Build judges the policy, verify and install
 * judge it again offline from the bundle, install pushes the evidence beside the image, and a
 * site's own images.yaml wins over the bundle's policy.
 */
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { makeTestImages, registryDigest, seed, skopeo, type Descriptor, type TestImages } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { curl, json, startServe } from '../support/serve.js';
import {
  buildxAttestation,
  cosignAttestationManifest,
  cosignKeyPair,
  cosignSignatureManifest,
  digestTag,
  opensslSign,
  pushTag,
  referrersTagIndex,
  signedEnvelope,
  simpleSigningPayload,
  SLSA_PROVENANCE,
  statement,
  type CosignKeyPair,
} from '../support/supply-chain.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/sigstore/intoto-with-custom-trust-root/', import.meta.url));
const CONFORMANCE_SAN = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const SPDX = '{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"app1","packages":[{"name":"busybox"},{"name":"musl"}]}';

const env = { AIRLOCK_PASSPHRASE: 'pw', SOURCE_DATE_EPOCH: '1767225600', DOCKER_CONFIG: '/nonexistent' };
let dir: string;
let upstream: TestRegistry;
let site: TestRegistry;
let images: TestImages;
let trusted: CosignKeyPair;
let other: CosignKeyPair;
/** A buildx-style index: amd64 and arm64 manifests, each with its attestation manifest. */
let buildx: { digest: string; amd64: Descriptor; attestationAmd64: Descriptor; attestationArm64: Descriptor };
let sbomReferrer: Descriptor;
let trust: string;

const ref = (name: string) => `${upstream.host}/shop/${name}:1.0`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-supply-chain-'));
  [upstream, site] = await Promise.all([startRegistry(), startRegistry()]);
  [trusted, other] = await Promise.all([cosignKeyPair(dir, 'trusted'), cosignKeyPair(dir, 'other')]);
  const layout = join(dir, 'layout');
  // The images first (their digests are what the evidence is about), then the evidence beside them.
  const plain = await makeTestImages(layout);
  const sign = async (key: CosignKeyPair, name: string, digest: string) => ({ payload: simpleSigningPayload(ref(name), digest), signature: await opensslSign(key.key, simpleSigningPayload(ref(name), digest)) });
  const app1Signature = await sign(trusted, 'app1', plain.app1.descriptor.digest);
  const app2Signature = await sign(other, 'app2', plain.app2.descriptor.digest);
  const elsewhere = await sign(trusted, 'big', plain.app1.descriptor.digest);
  const provenance = await signedEnvelope(trusted.key, statement(plain.app1.descriptor.digest, SLSA_PROVENANCE, { buildDefinition: { buildType: 'test' } }));
  const bundleJson = await readFile(join(FIXTURE, 'bundle.sigstore.json'), 'utf8');
  const tags: string[] = [];
  images = await makeTestImages(layout, {
    extend: (builder, made) => {
      tags.push(cosignSignatureManifest(builder, made.app1.descriptor.digest, [app1Signature]).tag);
      tags.push(cosignAttestationManifest(builder, made.app1.descriptor.digest, [{ envelope: provenance, predicateType: SLSA_PROVENANCE }]).tag);
      sbomReferrer = builder.artifact(made.app1.descriptor, { artifactType: 'application/spdx+json', payload: SPDX, payloadType: 'application/spdx+json' });
      tags.push(referrersTagIndex(builder, made.app1.descriptor.digest, [sbomReferrer]).tag);
      tags.push(cosignSignatureManifest(builder, made.app2.descriptor.digest, [app2Signature]).tag);
      tags.push(cosignSignatureManifest(builder, made.big.descriptor.digest, [elsewhere]).tag);
      const keyless = builder.artifact(made.multiAmd64, { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', payload: bundleJson, payloadType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });
      tags.push(referrersTagIndex(builder, made.multiAmd64.digest, [keyless]).tag);
      const attestationAmd64 = buildxAttestation(builder, made.multiAmd64, [
        { predicateType: SLSA_PROVENANCE, body: statement(made.multiAmd64.digest, SLSA_PROVENANCE, { builder: 'buildx' }) },
        { predicateType: 'https://spdx.dev/Document', body: statement(made.multiAmd64.digest, 'https://spdx.dev/Document', JSON.parse(SPDX)) },
      ]);
      const attestationArm64 = buildxAttestation(builder, made.multiArm64, [{ predicateType: SLSA_PROVENANCE, body: statement(made.multiArm64.digest, SLSA_PROVENANCE, { builder: 'buildx' }) }]);
      const index = builder.tag('buildx', builder.index([made.multiAmd64, made.multiArm64, attestationAmd64, attestationArm64]));
      buildx = { digest: index.descriptor.digest, amd64: made.multiAmd64, attestationAmd64, attestationArm64 };
    },
  });
  expect(images.app1.descriptor.digest).toBe(plain.app1.descriptor.digest);
  for (const name of ['app1', 'app2', 'big', 'buildx']) await seed(layout, name, ref(name));
  await seed(layout, 'multi', `${upstream.host}/shop/keyless:1.0`);
  for (const tag of tags) {
    const repository = tag.startsWith(digestTag(images.app2.descriptor.digest)) ? 'app2' : tag.startsWith(digestTag(images.big.descriptor.digest)) ? 'big' : tag.startsWith(digestTag(images.multiAmd64.digest)) ? 'keyless' : 'app1';
    await pushTag(layout, tag, `${upstream.host}/shop/${repository}:${tag}`);
  }
  expect((await runCli(['keys', 'generate', '--name', 'build', '--out', join(dir, 'keys')], { env })).code).toBe(0);
  trust = join(dir, 'trust');
  await mkdir(trust);
  await cp(join(dir, 'keys', 'build.pub.pem'), join(trust, 'build.pub.pem'));
  await cp(join(FIXTURE, 'trusted_root.json'), join(dir, 'trusted_root.json'));
  await mkdir(join(dir, 'migrations'));
  await mkdir(join(dir, 'hooks'));
  await writeFile(join(dir, 'app.conf'), 'listen = 8080\n');
  await writeFile(join(dir, 'migrations', 'V1__init.sql'), 'CREATE TABLE t (id INTEGER);\n');
  await writeFile(join(dir, 'hooks', 'ok.sh'), '#!/bin/sh\necho ok\n', { mode: 0o755 });
});

afterAll(async () => {
  await Promise.all([upstream?.stop(), site?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** SHA256SUMS of a bundle as stock tar reads it: path -> hex. */
async function sha256sums(bundle: string): Promise<Array<[string, string]>> {
  const { stdout } = await execa('tar', ['-xOf', bundle, 'SHA256SUMS']);
  return stdout.trim().split('\n').map((line) => [line.slice(66), line.slice(0, 64)] as [string, string]);
}

let builds = 0;
async function build(manifest: string, extra: string[] = []) {
  const n = builds++;
  const file = join(dir, `release-${n}.yaml`);
  await writeFile(file, manifest);
  const out = join(dir, 'out', String(n));
  const result = await runCli(['build', file, '--key', join(dir, 'keys', 'build.key.pem'), '--out', out, '--cache', join(dir, 'cache'), ...extra], { env });
  return { ...result, bundle: join(out, `shop-1.${n}.0.airlock`) };
}

const release = (n: number, lines: string[]) => `name: shop\nversion: 1.${n}.0\n${lines.join('\n')}\n`;
const image = (name: string, more = '') => `  - { ref: "${ref(name)}", insecure: true${more} }`;

describe('carrying and checking upstream evidence', () => {
  let signed: string;

  it('builds a release whose images meet their policy, and verify re-checks every signature offline', async () => {
    const built = await build(
      release(builds, [
        'configs:',
        '  prod: [{ src: app.conf, dest: app.conf }]',
        'migrations:',
        '  shop: { dir: migrations }',
        'hooks:',
        '  postInstall: [{ name: ok, script: hooks/ok.sh }]',
        'images:',
        image('app1', `, verify: { key: trusted.cosign.pem, attestations: ["${SLSA_PROVENANCE}"] }`),
        image('buildx'),
      ]),
      ['--platform', 'linux/amd64'],
    );
    expect(built.code, built.stderr).toBe(0);
    signed = built.bundle;

    const verified = await runCli(['verify', signed, '--trust', trust, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const [app1, bx] = JSON.parse(verified.stdout).images;
    expect(app1).toMatchObject({ ref: ref('app1'), verdict: 'met', signers: [{ keyId: trusted.keyId }] });
    expect(app1.attestations).toEqual([expect.objectContaining({ predicateType: SLSA_PROVENANCE, signedBy: [{ keyId: trusted.keyId }] })]);
    expect(app1.sboms).toEqual([expect.objectContaining({ format: 'spdx-json', packages: 2 })]);
    // Only the kept platform's attestation manifest travels: its two statements, unsigned.
    expect(bx.verdict).toBe('none');
    expect(bx.attestations.map((a: { predicateType: string; signedBy: unknown[] }) => [a.predicateType, a.signedBy.length])).toEqual([
      [SLSA_PROVENANCE, 0],
      ['https://spdx.dev/Document', 0],
    ]);
    expect(bx.sboms).toEqual([expect.objectContaining({ format: 'spdx-json', packages: 2 })]);

    const text = await runCli(['verify', signed, '--trust', trust]);
    expect(text.stdout).toContain(`policy met: a signature by key ${trusted.keyId}`);
    expect(text.stdout).toContain(`attestation ${SLSA_PROVENANCE}: signed by key ${trusted.keyId}`);
    expect(text.stdout).toContain('SBOM spdx-json, 2 packages');

    // Stock tools find the evidence in the bundle's OCI layout.
    const sigTag = `${upstream.host}/shop/app1:${digestTag(images.app1.descriptor.digest, 'sig')}`;
    expect(JSON.parse(await skopeo(['inspect', '--raw', `oci-archive:${signed}:${sigTag}`])).layers[0].annotations['dev.cosignproject.cosign/signature']).toBeDefined();
    const bxIndex = JSON.parse(await skopeo(['inspect', '--raw', `oci-archive:${signed}:${ref('buildx')}`]));
    expect(bxIndex.manifests.map((d: Descriptor) => d.digest)).toEqual([buildx.amd64.digest, buildx.attestationAmd64.digest]);
    const inspected = JSON.parse((await runCli(['inspect', signed, '--json'])).stdout);
    expect(inspected.images[0].attached.map((a: { tag?: string; digest: string }) => a.tag ?? a.digest).sort()).toEqual(
      [digestTag(images.app1.descriptor.digest, 'att'), digestTag(images.app1.descriptor.digest, 'sig'), sbomReferrer.digest].sort(),
    );
    expect(inspected.images[0].verify.key.keyId).toBe(trusted.keyId);
  });

  it('describes the release as a CycloneDX 1.6 SBOM that validates against the schema', async () => {
    const printed = await runCli(['inspect', signed, '--sbom', 'cyclonedx', '--trust', trust]);
    expect(printed.code, printed.stderr).toBe(0);
    const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
    expect(await validator.validate(printed.stdout)).toBeNull();
    const sbom = JSON.parse(printed.stdout);
    // The validator does judge: a component of a type the schema does not know is refused.
    expect(await validator.validate(JSON.stringify({ ...sbom, components: [{ type: 'spaceship', name: 'x' }] }))).not.toBeNull();
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { component: { type: 'application', name: 'shop', version: '1.0.0' } } });
    const app1 = sbom.components.find((c: { name: string }) => c.name === 'shop/app1');
    const purl = PackageURL.fromString(app1.purl);
    expect([purl.type, purl.name, purl.version, purl.qualifiers]).toEqual(['oci', 'app1', images.app1.descriptor.digest, { repository_url: `${upstream.host}/shop/app1`, tag: '1.0' }]);
    expect(app1.hashes).toEqual([{ alg: 'SHA-256', content: images.app1.descriptor.digest.slice(7) }]);
    expect(app1.properties).toEqual(expect.arrayContaining([{ name: 'airlock:signer', value: `key ${trusted.keyId}` }, { name: 'airlock:platform', value: 'linux/amd64' }]));
    const spdxLayer = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${upstream.host}/shop/app1@${sbomReferrer.digest}`])).layers[0].digest as string;
    expect(app1.externalReferences).toEqual([expect.objectContaining({ type: 'bom', url: `blobs/sha256/${spdxLayer.slice(7)}`, hashes: [{ alg: 'SHA-256', content: spdxLayer.slice(7) }] })]);
    const files = sbom.components.filter((c: { type: string }) => c.type === 'file').map((c: { name: string; hashes: Array<{ content: string }> }) => [c.name, c.hashes[0]!.content]);
    const sums = Object.fromEntries(await sha256sums(signed));
    expect(files.sort()).toEqual(['configs/prod/app.conf', 'hooks/ok.sh', 'migrations/shop/V1__init.sql'].map((path) => [path, sums[path]]));
    expect(sbom.metadata.component.properties).toEqual([{ name: 'airlock:contentDigest', value: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    // Without a trust store: the same document, from what the build recorded.
    expect((await runCli(['inspect', signed, '--sbom', 'cyclonedx'])).stdout).toBe(printed.stdout);

    const report = join(dir, 'report.json');
    expect((await runCli(['inspect', signed, '--report', report, '--trust', trust])).code).toBe(0);
    const model = JSON.parse(await readFile(report, 'utf8'));
    expect(model.sbom).toEqual(sbom);
    expect(model.images[0].judged).toMatchObject({ verdict: 'met', signers: [{ keyId: trusted.keyId }] });
    const html = join(dir, 'report.html');
    expect((await runCli(['inspect', signed, '--report', html, '--trust', trust])).code).toBe(0);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('policy met');
    expect(page).toContain(`attestation</dt><dd>${SLSA_PROVENANCE}: signed by key ${trusted.keyId}`.replace('attestation', 'Attestation'));
    expect(page).toContain('SBOM (CycloneDX 1.6)');
    const markdown = join(dir, 'report.md');
    expect((await runCli(['inspect', signed, '--report', markdown])).code).toBe(0);
    const md = await readFile(markdown, 'utf8');
    // Without a trust store: what the build recorded, marked not checked.
    expect(md).toContain('**not checked (no trust store)**');
    expect(md).toContain(`| Signed by | key ${trusted.keyId} |`);
    expect(md).toContain('## SBOM (CycloneDX 1.6)');
  });

  it('serves the evidence from the bundle with airlock serve: the cosign tags and the referrers API', async () => {
    const served = await startServe([signed, '--trust', trust, '--listen', '127.0.0.1:0', '--json']);
    try {
      const sigTag = digestTag(images.app1.descriptor.digest, 'sig');
      expect(await registryDigest(`${served.host}/shop/app1:${sigTag}`)).toBe(await registryDigest(`${upstream.host}/shop/app1:${sigTag}`));
      const listing = json(await curl(`${served.url}/v2/shop/app1/referrers/${images.app1.descriptor.digest}`));
      expect(listing.manifests.map((d: Descriptor) => d.digest)).toEqual([sbomReferrer.digest]);
    } finally {
      await served.stop();
    }
  });

  it('carries what an OCI layout source holds beside its image: cosign tags and untagged referrers', async () => {
    const layout = join(dir, 'source-layout');
    let tag = '';
    let referrer: Descriptor | undefined;
    const payload = simpleSigningPayload('local/app', images.app1.descriptor.digest);
    const signature = await opensslSign(trusted.key, payload);
    await makeTestImages(layout, {
      extend: (builder, made) => {
        tag = cosignSignatureManifest(builder, made.app1.descriptor.digest, [{ payload, signature }]).tag;
        referrer = builder.artifact(made.app1.descriptor, { artifactType: 'application/spdx+json', payload: SPDX, payloadType: 'application/spdx+json' });
        builder.untagged(referrer);
      },
    });
    const built = await build(release(builds, ['images:', '  - { ref: "registry.example/local/app:1.0", ociLayout: source-layout, tag: app1, verify: { key: trusted.cosign.pem } }']));
    expect(built.code, built.stderr).toBe(0);
    const inspected = JSON.parse((await runCli(['inspect', built.bundle, '--json'])).stdout);
    expect(inspected.images[0].attached.map((a: { tag?: string; digest: string }) => a.tag ?? a.digest).sort()).toEqual([tag, referrer!.digest].sort());
    expect(inspected.images[0].evidence.signers).toEqual([{ keyId: trusted.keyId }]);
  });

  it('refuses images that do not meet their policy at build, naming the image and why', async () => {
    const keyPolicy = ', verify: { key: trusted.cosign.pem }';
    const untrusted = await build(release(builds, ['images:', image('app2', keyPolicy)]));
    expect(untrusted.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(untrusted.stderr).toContain(`${ref('app2')}: a signature by key ${trusted.keyId} is required`);
    expect(untrusted.stderr).toContain(`key ${trusted.keyId} did not make`);

    const otherDigest = await build(release(builds, ['images:', image('big', keyPolicy)]));
    expect(otherDigest.code).toBe(exitCodeFor('IMAGE_SIGNATURE_INVALID'));
    expect(otherDigest.stderr).toContain(`signs ${images.app1.descriptor.digest}, not ${images.big.descriptor.digest}`);

    const unsigned = await build(release(builds, ['images:', image('buildx', keyPolicy)]));
    expect(unsigned.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(unsigned.stderr).toContain(`${ref('buildx')}: a signature by key ${trusted.keyId} is required (the release manifest), but it carries no signature`);

    const noRoot = await build(release(builds, ['images:', image('app1', `, verify: { identity: x, issuer: "${GITHUB_ISSUER}" }`)]));
    expect(noRoot.code).toBe(exitCodeFor('MANIFEST_INVALID'));
    expect(noRoot.stderr).toContain('images[0].verify: a keyless policy needs trustedRoot');

    const missingAttestation = await build(release(builds, ['images:', image('app1', `, verify: { key: trusted.cosign.pem, attestations: [https://example.com/other/v1] }`)]));
    expect(missingAttestation.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(missingAttestation.stderr).toContain('an attestation of type https://example.com/other/v1');

    // The real Sigstore bundle verifies (certificate chain, transparency log, timestamp) against its trusted root...
    const keyless = (identity: string) => build(release(builds, ['trustedRoot: trusted_root.json', 'images:', `  - { ref: "${upstream.host}/shop/keyless:1.0", insecure: true, platforms: [linux/amd64], verify: { identity: "${identity}", issuer: "${GITHUB_ISSUER}" } }`]));
    const mismatch = await keyless('https://github.com/acme/release/.github/workflows/release.yml@refs/heads/main');
    expect(mismatch.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(mismatch.stderr).toContain(`it is signed by ${CONFORMANCE_SAN} (issuer ${GITHUB_ISSUER}) only`);
    // ...and the identity matches, but what it signs is the conformance suite's d.txt, not this image.
    const matched = await keyless('/https://github.com/sigstore-conformance/.*/');
    expect(matched.code).toBe(exitCodeFor('IMAGE_SIGNATURE_INVALID'));
    expect(matched.stderr).toContain(`signs sha256:330a043220fa13e01d68a7db39c89e12b0c4c3b6a0346fe624b0903f1303b5b2, not ${images.multiAmd64.digest}`);
  });

  it('leaves the evidence behind with attached: false', async () => {
    const built = await build(release(builds, ['images:', image('app1', ', attached: false')]));
    expect(built.code, built.stderr).toBe(0);
    const inspected = JSON.parse((await runCli(['inspect', built.bundle, '--json'])).stdout);
    expect(inspected.images[0].attached).toBeUndefined();
    expect(inspected.files.filter((f: { path: string }) => f.path.startsWith('blobs/')).length).toBe(images.app1.blobs.length);
  });

  it('pushes the evidence with the image at install, digests unchanged, found by skopeo and the referrers tag', async () => {
    const siteDir = await mkdtemp(join(dir, 'site-'));
    await writeFile(join(siteDir, 'site.yaml'), `site: a\nenvironment: prod\nstateDir: state\ntrust: ${trust}\ntargets:\n  configRoot: etc\n  databases:\n    shop: { sqlite: { file: data/shop.db } }\n  images: { registry: "${site.host}", insecure: true }\n`);
    const installed = await runCli(['install', signed, '--site', join(siteDir, 'site.yaml'), '--yes']);
    expect(installed.code, installed.stderr).toBe(0);
    // The plan and the receipt say what goes beside each image.
    const planned = installed.stdout.split('\n');
    const app1Line = planned.findIndex((line) => line.includes('+ ') && line.includes('/shop/app1:1.0 ->'));
    expect(planned[app1Line + 1]?.trim()).toBe('with 1 signature, 1 attestation, 1 SBOM attached (pushed beside it)');
    const [receiptName] = await readdir(join(siteDir, 'state', 'receipts'));
    const receipt = JSON.parse(await readFile(join(siteDir, 'state', 'receipts', receiptName!), 'utf8'));
    const app1 = receipt.imagesPushed.find((image: { ref: string }) => image.ref.endsWith('/shop/app1:1.0'));
    expect(app1.attached.map((a: { kind: string }) => a.kind).sort()).toEqual(['SBOM', 'attestation', 'signature']);
    expect(app1.attached.map((a: { digest: string }) => a.digest)).toContain(sbomReferrer.digest);
    expect(await registryDigest(`${site.host}/shop/app1:1.0`)).toBe(images.app1.descriptor.digest);
    for (const suffix of ['sig', 'att'] as const) {
      const tag = digestTag(images.app1.descriptor.digest, suffix);
      expect(await registryDigest(`${site.host}/shop/app1:${tag}`)).toBe(await registryDigest(`${upstream.host}/shop/app1:${tag}`));
    }
    // distribution has no referrers API: the referrers tag lists the SBOM, with its artifactType.
    const listing = await fetch(`http://${site.host}/v2/shop/app1/manifests/${digestTag(images.app1.descriptor.digest)}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    expect(listing.status).toBe(200);
    expect((await listing.json()).manifests).toEqual([{ mediaType: sbomReferrer.mediaType, digest: sbomReferrer.digest, size: sbomReferrer.size, artifactType: 'application/spdx+json' }]);
    const sbom = await fetch(`http://${site.host}/v2/shop/app1/manifests/${sbomReferrer.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(sbom.status).toBe(200);
    expect(JSON.parse(await sbom.text()).subject.digest).toBe(images.app1.descriptor.digest);
    // Again: nothing new, and the referrers tag still lists the SBOM once.
    expect((await runCli(['install', signed, '--site', join(siteDir, 'site.yaml'), '--yes', '--reinstall'])).code).toBe(0);
    const again = await fetch(`http://${site.host}/v2/shop/app1/manifests/${digestTag(images.app1.descriptor.digest)}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    expect((await again.json()).manifests.length).toBe(1);
  });

  it('puts the evidence into an OCI layout target beside the image', async () => {
    const siteDir = await mkdtemp(join(dir, 'site-'));
    await writeFile(join(siteDir, 'site.yaml'), `site: a\nenvironment: prod\nstateDir: state\ntrust: ${trust}\ntargets:\n  configRoot: etc\n  databases:\n    shop: { sqlite: { file: data/shop.db } }\n  images: { ociLayout: images }\n`);
    const installed = await runCli(['install', signed, '--site', join(siteDir, 'site.yaml'), '--yes']);
    expect(installed.code, installed.stderr).toBe(0);
    const layout = join(siteDir, 'images');
    const sigTag = `${upstream.host}/shop/app1:${digestTag(images.app1.descriptor.digest, 'sig')}`;
    expect((await skopeo(['inspect', '--raw', `oci:${layout}:${sigTag}`])).length).toBeGreaterThan(0);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests.filter((d: Descriptor) => d.digest === sbomReferrer.digest)).toEqual([
      expect.objectContaining({ annotations: { 'dev.airlock.attached.to': ref('app1') } }),
    ]);
  });

  it("judges by the site's own image policy where its trust store has one", async () => {
    const siteTrust = join(dir, 'site-trust');
    await cp(trust, siteTrust, { recursive: true });
    await cp(other.pub, join(siteTrust, 'vendor.cosign.pem'));
    await writeFile(join(siteTrust, 'images.yaml'), `images:\n  - ref: "${upstream.host}/shop/*"\n    verify: { key: vendor.cosign.pem }\n`);
    const verified = await runCli(['verify', signed, '--trust', siteTrust]);
    expect(verified.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(verified.stdout).toContain(`${ref('app1')}: a signature by key ${other.keyId} is required (${join(siteTrust, 'images.yaml')}, rule ${upstream.host}/shop/*)`);
    const siteDir = await mkdtemp(join(dir, 'site-'));
    await writeFile(join(siteDir, 'site.yaml'), `site: a\nenvironment: prod\nstateDir: state\ntrust: ${siteTrust}\ntargets:\n  configRoot: etc\n  databases:\n    shop: { sqlite: { file: data/shop.db } }\n  images: { ociLayout: images }\n`);
    const refused = await runCli(['install', signed, '--site', join(siteDir, 'site.yaml'), '--yes']);
    expect(refused.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(refused.stderr).toContain(ref('app1'));
    expect(await readFile(join(siteDir, 'state', 'audit.jsonl'), 'utf8')).toContain('"code":"IMAGE_POLICY"');

    // A keyless rule of the site, checked against the site's own trusted root: the bundle carries none.
    const keylessBuilt = await build(release(builds, ['images:', `  - { ref: "${upstream.host}/shop/keyless:1.0", insecure: true, platforms: [linux/amd64] }`]));
    expect(keylessBuilt.code, keylessBuilt.stderr).toBe(0);
    const keylessTrust = join(dir, 'keyless-trust');
    await cp(trust, keylessTrust, { recursive: true });
    await cp(join(FIXTURE, 'trusted_root.json'), join(keylessTrust, 'trusted_root.json'));
    await writeFile(join(keylessTrust, 'images.yaml'), `trustedRoot: trusted_root.json\nimages:\n  - ref: "*"\n    verify: { identity: "https://github.com/acme/x", issuer: "${GITHUB_ISSUER}" }\n`);
    const keylessVerified = await runCli(['verify', keylessBuilt.bundle, '--trust', keylessTrust]);
    expect(keylessVerified.code).toBe(exitCodeFor('IMAGE_POLICY'));
    expect(keylessVerified.stdout).toContain(`it is signed by ${CONFORMANCE_SAN} (issuer ${GITHUB_ISSUER}) only`);
    expect(JSON.parse((await runCli(['verify', keylessBuilt.bundle, '--trust', trust, '--json'])).stdout).images[0].verdict).toBe('none');
  });
});

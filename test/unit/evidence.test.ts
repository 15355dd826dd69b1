/**
 * The evidence core over data: a real Sigstore bundle (sigstore-conformance, test/fixtures/sigstore)
 * checked offline against its trusted root, tampered copies of it refused, keyed cosign signatures
 * and DSSE envelopes made by openssl, identity patterns, and which buildx attestation manifests a
 * platform selection keeps.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isAirlockError } from '../../src/base/errors.js';
import { evaluateImage } from '../../src/evidence/evaluate.js';
import { identityMatches } from '../../src/evidence/policy.js';
import { loadSigstoreTrust, verifySigstoreBundle, type SigstoreTrust } from '../../src/evidence/sigstore.js';
import { parseStatement, statementDigests } from '../../src/evidence/in-toto.js';
import type { BundleImage } from '../../src/manifest/bundle-manifest.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { choosePlatforms } from '../../src/oci/platform.js';
import { parseCosignKey } from '../../src/trust/cosign-key.js';
import { cosignKeyPair, opensslSign, pae, signedEnvelope, simpleSigningPayload, SLSA_PROVENANCE, statement, type CosignKeyPair } from '../support/supply-chain.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/sigstore/intoto-with-custom-trust-root/', import.meta.url));
const SAN = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

let trust: SigstoreTrust;
let bundle: Buffer;
let artifactDigest: string;
let keys: { a: CosignKeyPair; b: CosignKeyPair };

beforeAll(async () => {
  trust = loadSigstoreTrust(await readFile(join(FIXTURE, 'trusted_root.json')), 'trusted_root.json');
  bundle = await readFile(join(FIXTURE, 'bundle.sigstore.json'));
  artifactDigest = sha256Digest(await readFile(join(FIXTURE, 'artifact')));
  const dir = await mkdtemp(join(tmpdir(), 'airlock-evidence-'));
  keys = { a: await cosignKeyPair(dir, 'a'), b: await cosignKeyPair(dir, 'b') };
});

describe('Sigstore bundles, offline', () => {
  it('verifies the conformance bundle against its trusted root: who signed, and the statement it signs', () => {
    const signer = verifySigstoreBundle(bundle, trust, 'fixture');
    expect(signer).toMatchObject({ identity: SAN, issuer: ISSUER, content: { kind: 'dsse', payloadType: 'application/vnd.in-toto+json' } });
    const signed = parseStatement((signer.content as { payload: Buffer }).payload, 'fixture');
    expect(signed.predicateType).toBe(SLSA_PROVENANCE);
    // The statement is about the conformance suite's artifact: the digest its file hashes to.
    expect(statementDigests(signed)).toEqual([artifactDigest]);
  });

  it('refuses every single-byte change to the signature, the payload and the certificate', () => {
    const json = JSON.parse(bundle.toString('utf8'));
    const envelope = json.dsseEnvelope;
    const targets: Array<[string, (value: string) => void, string]> = [
      ['signature', (v) => (envelope.signatures[0].sig = v), envelope.signatures[0].sig],
      ['payload', (v) => (envelope.payload = v), envelope.payload],
      ['certificate', (v) => (json.verificationMaterial.x509CertificateChain.certificates[0].rawBytes = v), json.verificationMaterial.x509CertificateChain.certificates[0].rawBytes],
    ];
    for (const [name, set, original] of targets) {
      const bytes = Buffer.from(original, 'base64');
      for (let trial = 0; trial < 12; trial++) {
        const copy = Buffer.from(bytes);
        const at = (trial * 7919 + name.length * 31) % copy.length;
        copy[at] = copy[at]! ^ (1 << (trial % 8));
        set(copy.toString('base64'));
        let code: string | undefined;
        try {
          verifySigstoreBundle(Buffer.from(JSON.stringify(json)), trust, 'tampered');
        } catch (error) {
          code = isAirlockError(error) ? error.code : 'other';
        }
        expect(code, `${name} byte ${at}`).toBe('IMAGE_SIGNATURE_INVALID');
      }
      set(original);
    }
    expect(verifySigstoreBundle(Buffer.from(JSON.stringify(json)), trust, 'restored').identity).toBe(SAN);
  });

  it('does not verify against another trusted root', async () => {
    const other = JSON.parse(await readFile(join(FIXTURE, 'trusted_root.json'), 'utf8'));
    other.certificateAuthorities = [];
    expect(() => verifySigstoreBundle(bundle, loadSigstoreTrust(Buffer.from(JSON.stringify(other)), 'empty root'), 'fixture')).toThrow(/does not verify against empty root/);
  });
});

describe('judging one image', () => {
  /** An image whose only evidence is one attached artifact, read from an in-memory blob store. */
  function imageWith(digest: string, layers: Array<{ mediaType: string; data: Buffer; annotations?: Record<string, string> }>) {
    const blobs = new Map<string, Buffer>();
    const put = (data: Buffer) => {
      blobs.set(sha256Digest(data), data);
      return { digest: sha256Digest(data), size: data.length };
    };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...put(Buffer.from('{}')) },
        layers: layers.map((l) => ({ mediaType: l.mediaType, ...put(l.data), ...(l.annotations ? { annotations: l.annotations } : {}) })),
      }),
    );
    const artifact = put(manifest);
    const image: BundleImage = {
      ref: 'registry.example/shop/app:1.0',
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      platforms: ['linux/amd64'],
      size: 1,
      attached: [{ ...artifact, mediaType: 'application/vnd.oci.image.manifest.v1+json', subject: digest }],
    };
    const reader = { read: async (d: { digest: string }) => blobs.get(d.digest)! };
    return { image, reader };
  }
  const digest = sha256Digest(Buffer.from('an image manifest'));

  it('counts a keyed cosign signature over the image, and names the key of one that is not', async () => {
    const payload = simpleSigningPayload('registry.example/shop/app', digest);
    const { image, reader } = imageWith(digest, [
      { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', data: payload, annotations: { 'dev.cosignproject.cosign/signature': (await opensslSign(keys.a.key, payload)).toString('base64') } },
    ]);
    const keyA = parseCosignKey(await readFile(keys.a.pub, 'utf8'), keys.a.pub);
    const keyB = parseCosignKey(await readFile(keys.b.pub, 'utf8'), keys.b.pub);
    expect(keyA.keyId).toBe(keys.a.keyId);
    const met = await evaluateImage({ image, policy: { source: 'test', key: keyA, attestations: [] }, sigstore: undefined, reader });
    expect(met).toMatchObject({ verdict: 'met', signers: [{ keyId: keys.a.keyId }], problems: [] });
    const refused = await evaluateImage({ image, policy: { source: 'test', key: keyB, attestations: [] }, sigstore: undefined, reader });
    expect(refused.problems).toEqual([{ code: 'IMAGE_POLICY', message: expect.stringContaining(`a signature that key ${keys.b.keyId} did not make`) }]);
  });

  it('counts a DSSE attestation only when the key signed the PAE and the statement names the image', async () => {
    const keyA = parseCosignKey(await readFile(keys.a.pub, 'utf8'), keys.a.pub);
    const policy = { source: 'test', key: keyA, attestations: [SLSA_PROVENANCE] };
    const good = imageWith(digest, [{ mediaType: 'application/vnd.dsse.envelope.v1+json', data: await signedEnvelope(keys.a.key, statement(digest, SLSA_PROVENANCE, {})) }]);
    const judged = await evaluateImage({ image: good.image, policy: { ...policy, attestations: [SLSA_PROVENANCE] }, sigstore: undefined, reader: good.reader });
    expect(judged.attestations).toEqual([expect.objectContaining({ predicateType: SLSA_PROVENANCE, signedBy: [{ keyId: keys.a.keyId }] })]);
    // (the attestation alone is no signature of the image)
    expect(judged.problems.map((p) => p.code)).toEqual(['IMAGE_POLICY']);

    const elsewhere = imageWith(digest, [{ mediaType: 'application/vnd.dsse.envelope.v1+json', data: await signedEnvelope(keys.a.key, statement(artifactDigest, SLSA_PROVENANCE, {})) }]);
    const mismatch = await evaluateImage({ image: elsewhere.image, policy, sigstore: undefined, reader: elsewhere.reader });
    expect(mismatch.problems[0]).toMatchObject({ code: 'IMAGE_SIGNATURE_INVALID', message: expect.stringContaining(`signs ${artifactDigest}, not ${digest}`) });

    // A signature over the statement's bytes without the PAE is not a DSSE signature.
    const body = statement(digest, SLSA_PROVENANCE, {});
    const raw = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: body.toString('base64'), signatures: [{ sig: (await opensslSign(keys.a.key, body)).toString('base64') }] }));
    const unsigned = imageWith(digest, [{ mediaType: 'application/vnd.dsse.envelope.v1+json', data: raw }]);
    expect((await evaluateImage({ image: unsigned.image, policy, sigstore: undefined, reader: unsigned.reader })).attestations[0]!.signedBy).toEqual([]);
    expect(pae('t', Buffer.from('x')).toString()).toBe('DSSEv1 1 t 1 x');
  });

  it('binds the real Sigstore bundle to what it signs: the conformance artifact, not another image', async () => {
    const policy = { source: 'test', identity: '/https://github\\.com/sigstore-conformance/.+/', issuer: ISSUER, attestations: [SLSA_PROVENANCE] };
    const layer = [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', data: bundle }];
    const about = imageWith(artifactDigest, layer);
    const judged = await evaluateImage({ image: about.image, policy, sigstore: trust, reader: about.reader });
    expect(judged.attestations).toEqual([expect.objectContaining({ predicateType: SLSA_PROVENANCE, signedBy: [{ identity: SAN, issuer: ISSUER }] })]);
    expect(judged.problems.map((p) => p.message)).toEqual([expect.stringContaining('a signature by /https://github')]);
    const other = imageWith(digest, layer);
    expect((await evaluateImage({ image: other.image, policy, sigstore: trust, reader: other.reader })).problems[0]!.code).toBe('IMAGE_SIGNATURE_INVALID');
  });
});

describe('identities and platforms', () => {
  it('matches an identity whole, as a string or an anchored pattern', () => {
    expect(identityMatches(SAN, SAN)).toBe(true);
    expect(identityMatches(`${SAN}x`, SAN)).toBe(false);
    expect(identityMatches('/https://github\\.com/sigstore-conformance/.*/', SAN)).toBe(true);
    // A pattern must match the whole SAN: no prefix or suffix slips through.
    expect(identityMatches('/github\\.com/sigstore-conformance/', SAN)).toBe(false);
    expect(identityMatches('/https://github\\.com/acme/.*/', `https://github.com/acme/x@refs/heads/main\nhttps://evil`)).toBe(false);
  });

  it('keeps the attestation manifest of every platform kept, and only those', () => {
    const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
    const manifests = [
      { mediaType: 'm', digest: d(1), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'm', digest: d(2), size: 1, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: 'm', digest: d(3), size: 1, platform: { os: 'linux', architecture: 's390x' } },
      { mediaType: 'm', digest: d(4), size: 1, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d(1) } },
      { mediaType: 'm', digest: d(5), size: 1, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d(2) } },
    ];
    const index = { schemaVersion: 2 as const, manifests };
    expect(choosePlatforms(index, ['linux/amd64'], 'x', true)).toEqual({ kind: 'subset', positions: [0, 3] });
    expect(choosePlatforms(index, ['linux/amd64'], 'x', false)).toEqual({ kind: 'one', descriptor: manifests[0] });
    expect(choosePlatforms(index, ['linux/s390x'], 'x', true)).toEqual({ kind: 'one', descriptor: manifests[2] });
    expect(choosePlatforms(index, ['linux/amd64', 'linux/arm64'], 'x', true)).toEqual({ kind: 'subset', positions: [0, 1, 3, 4] });
    expect(choosePlatforms(index, ['linux/amd64', 'linux/arm64', 'linux/s390x'], 'x', true)).toEqual({ kind: 'all' });
  });
});

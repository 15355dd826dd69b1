/**
 * Upstream evidence made the way cosign, oras and buildx make it, without our code: cosign
 * keys and ECDSA P-256 signatures by openssl over the simple-signing payload (the signature
 * base64 in the layer's annotation), DSSE attestations signed by openssl over the PAE, OCI 1.1
 * referrers with the referrers tag index a client writes for a registry without the referrers
 * API, and buildx-style attestation manifests inside an index. Written into an OCI layout by
 * LayoutBuilder and pushed with skopeo.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Descriptor, LayoutBuilder, TestImage } from './images.js';

export interface CosignKeyPair {
  key: string;
  pub: string;
  /** lowercase hex SHA-256 of the SPKI DER, as openssl computes it. */
  keyId: string;
}

export async function cosignKeyPair(dir: string, name: string): Promise<CosignKeyPair> {
  const key = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.cosign.pem`);
  await execa('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await execa('openssl', ['ec', '-in', key, '-pubout', '-out', pub]);
  const { stdout } = await execa('sh', ['-c', `openssl pkey -pubin -in '${pub}' -outform DER | sha256sum | cut -c1-64`]);
  return { key, pub, keyId: stdout.trim() };
}

/** ECDSA P-256 / SHA-256 over `data` by openssl: the DER signature. */
export async function opensslSign(key: string, data: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-sign-'));
  await writeFile(join(dir, 'data'), data);
  await execa('openssl', ['dgst', '-sha256', '-sign', key, '-out', join(dir, 'sig'), join(dir, 'data')]);
  return readFile(join(dir, 'sig'));
}

export function simpleSigningPayload(reference: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({ critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }),
  );
}

export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

export function statement(subjectDigest: string, predicateType: string, predicate: unknown): Buffer {
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'image', digest: { sha256: subjectDigest.slice(7) } }], predicateType, predicate }));
}

export const SLSA_PROVENANCE = 'https://slsa.dev/provenance/v1';

function createHashHex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestTag(digest: string, suffix?: 'sig' | 'att' | 'sbom'): string {
  return `sha256-${digest.slice(7)}${suffix ? `.${suffix}` : ''}`;
}

/**
 * A manifest as cosign pushes it under `sha256-<hex>.<suffix>`: an image config with no platform
 * (its diff_ids the layers' digests) and one layer per signature or attestation.
 */
function cosignManifest(builder: LayoutBuilder, subject: string, suffix: 'sig' | 'att', layers: Array<{ data: Buffer; mediaType: string; annotations: Record<string, string> }>): TestImage {
  const diffIds = layers.map((l) => `sha256:${createHashHex(l.data)}`);
  const config = builder.blob(Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } })), 'application/vnd.oci.image.config.v1+json');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: layers.map((l) => ({ ...builder.blob(l.data, l.mediaType), annotations: l.annotations })),
  };
  return builder.tag(digestTag(subject, suffix), builder.blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType));
}

/** A cosign `.sig` manifest: one simple-signing layer per signature, the signature base64 in its annotation. */
export function cosignSignatureManifest(builder: LayoutBuilder, subject: string, signatures: Array<{ payload: Buffer; signature: Buffer }>): TestImage {
  return cosignManifest(
    builder,
    subject,
    'sig',
    signatures.map((s) => ({ data: s.payload, mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', annotations: { 'dev.cosignproject.cosign/signature': s.signature.toString('base64') } })),
  );
}

/** A cosign `.att` manifest: one DSSE envelope layer per attestation. */
export function cosignAttestationManifest(builder: LayoutBuilder, subject: string, envelopes: Array<{ envelope: Buffer; predicateType: string }>): TestImage {
  return cosignManifest(builder, subject, 'att', envelopes.map((e) => ({ data: e.envelope, mediaType: 'application/vnd.dsse.envelope.v1+json', annotations: { predicateType: e.predicateType } })));
}

/** A DSSE envelope over an in-toto statement, signed by openssl. */
export async function signedEnvelope(key: string, payload: Buffer): Promise<Buffer> {
  const payloadType = 'application/vnd.in-toto+json';
  const sig = await opensslSign(key, pae(payloadType, payload));
  return Buffer.from(JSON.stringify({ payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] }));
}

/**
 * OCI 1.1 referrers of `subject` pushed to a registry without the referrers API: the referrers
 * tag `sha256-<hex>` holding an index of the artifact manifests, as oras writes it (without the
 * descriptors' artifactType, which skopeo 1.9 cannot copy unchanged; readers fetch each manifest).
 */
export function referrersTagIndex(builder: LayoutBuilder, subject: string, referrers: Descriptor[]): TestImage {
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: referrers.map((descriptor) => ({ mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size })),
  };
  return builder.tag(digestTag(subject), builder.blob(Buffer.from(JSON.stringify(index)), index.mediaType));
}

/** A buildx attestation manifest for `platformManifest`: in-toto layers, listed in the index with unknown/unknown. */
export function buildxAttestation(builder: LayoutBuilder, platformManifest: Descriptor, statements: Array<{ predicateType: string; body: Buffer }>): Descriptor {
  const config = builder.blob(Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: statements.map((s) => `sha256:${createHashHex(s.body)}`) } })), 'application/vnd.oci.image.config.v1+json');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: statements.map((s) => ({ ...builder.blob(s.body, 'application/vnd.in-toto+json'), annotations: { 'in-toto.io/predicate-type': s.predicateType } })),
  };
  return {
    ...builder.blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType),
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': platformManifest.digest },
  };
}

/** skopeo copy of one tagged entry of the layout, byte for byte. */
export async function pushTag(layoutDir: string, tag: string, destination: string): Promise<void> {
  await execa('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layoutDir}:${tag}`, `docker://${destination}`]);
}

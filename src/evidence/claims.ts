/**
 * What an attached artifact says, read out of its manifest's layers: cosign signatures (a
 * simple-signing payload with the signature in the layer's annotation), DSSE envelopes (cosign
 * attestations), Sigstore bundles, plain in-toto statements (buildx) and SBOM documents. Nothing
 * is judged here; evaluate.ts checks each claim.
 */
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';
import { COSIGN_SIGNATURE_ANNOTATION, COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE, IN_TOTO, IN_TOTO_PREDICATE_ANNOTATION, SIGSTORE_BUNDLE_TYPES } from '../oci/attached.js';
import { imageManifestSchema, type Descriptor } from '../oci/schema.js';
import { dsseEnvelopeSchema, type DsseEnvelope } from './in-toto.js';
import { parseJsonLoosely, sbomFacts, type SbomFacts } from './sbom-count.js';

/** Reads a blob of the image's layout whole, checked against its digest (and its size, when known). */
export interface EvidenceReader {
  read(descriptor: Pick<Descriptor, 'digest'> & { size?: number }, what: string): Promise<Buffer>;
}

/** Evidence layers are small documents; anything larger is not read as one. */
export const EVIDENCE_LIMIT = 64 * 1024 * 1024;

export type Claim =
  | { kind: 'cosign-signature'; layer: string; payload: Buffer; signature: Buffer }
  | { kind: 'dsse'; layer: string; envelope: DsseEnvelope }
  | { kind: 'sigstore-bundle'; layer: string; data: Buffer }
  | { kind: 'statement'; layer: string; payload: Buffer }
  | { kind: 'sbom'; layer: string; facts: SbomFacts };

const SIGSTORE_ARTIFACT_TYPES = new Set(SIGSTORE_BUNDLE_TYPES);

export async function readClaims(manifest: Buffer, reader: EvidenceReader, what: string): Promise<Claim[]> {
  const parsed = parseJson(imageManifestSchema.extend({ artifactType: z.string().optional() }), manifest, what, 'IMAGE_INVALID');
  const claims: Claim[] = [];
  for (const layer of parsed.layers) {
    const type = layer.mediaType.split(';')[0]!.trim();
    const isBundle = SIGSTORE_ARTIFACT_TYPES.has(type) || (parsed.artifactType !== undefined && SIGSTORE_ARTIFACT_TYPES.has(parsed.artifactType) && type.endsWith('json'));
    const readable = type.endsWith('json') || type === IN_TOTO || type === DSSE_ENVELOPE || isBundle;
    if (!readable || layer.size > EVIDENCE_LIMIT) continue;
    const data = await reader.read(layer, `${what}: layer ${layer.digest}`);
    const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (type === COSIGN_SIMPLE_SIGNING) {
      if (signature !== undefined) claims.push({ kind: 'cosign-signature', layer: layer.digest, payload: data, signature: Buffer.from(signature, 'base64') });
    } else if (isBundle) {
      claims.push({ kind: 'sigstore-bundle', layer: layer.digest, data });
    } else if (type === DSSE_ENVELOPE) {
      claims.push({ kind: 'dsse', layer: layer.digest, envelope: parseJson(dsseEnvelopeSchema, data, `${what}: DSSE envelope ${layer.digest}`, 'IMAGE_SIGNATURE_INVALID') });
    } else if (type === IN_TOTO || layer.annotations?.[IN_TOTO_PREDICATE_ANNOTATION] !== undefined) {
      claims.push({ kind: 'statement', layer: layer.digest, payload: data });
    } else {
      const facts = sbomFacts(parseJsonLoosely(data));
      if (facts) claims.push({ kind: 'sbom', layer: layer.digest, facts });
    }
  }
  return claims;
}

/** The image digest a cosign simple-signing payload names. */
export function simpleSigningDigest(payload: Buffer, what: string): string {
  const schema = z.looseObject({ critical: z.looseObject({ image: z.looseObject({ 'docker-manifest-digest': z.string() }) }) });
  const parsed = schema.safeParse(parseJsonLoosely(payload));
  if (!parsed.success) throw new AirlockError('IMAGE_SIGNATURE_INVALID', `${what}: not a cosign simple-signing payload (critical.image.docker-manifest-digest missing)`);
  return parsed.data.critical.image['docker-manifest-digest'];
}

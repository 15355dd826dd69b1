/**
 * What can be attached to an image, as the OCI 1.1 spec, cosign and buildx write it (pure): the
 * tags artifacts are found under, buildx's attestation entries inside an index, and the
 * descriptor a referrers list holds for an artifact manifest.
 */
import { z } from 'zod';
import { digestHex } from './digest.js';
import type { Descriptor } from './schema.js';

/** cosign's tag scheme: `sha256-<hex>.sig` (signatures), `.att` (attestations), `.sbom` (SBOMs). */
export const COSIGN_TAG_SUFFIXES = ['sig', 'att', 'sbom'] as const;
export type CosignTagSuffix = (typeof COSIGN_TAG_SUFFIXES)[number];

/** `sha256-<hex>` (the OCI 1.1 referrers tag schema), or cosign's `sha256-<hex>.<suffix>`. */
export function digestTag(digest: string, suffix?: CosignTagSuffix): string {
  return `sha256-${digestHex(digest)}${suffix === undefined ? '' : `.${suffix}`}`;
}

export const COSIGN_SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO = 'application/vnd.in-toto+json';
export const IN_TOTO_PREDICATE_ANNOTATION = 'in-toto.io/predicate-type';
export const SIGSTORE_BUNDLE_TYPES = ['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json'];
/** The predicate cosign (v3) signs an image with when it writes a Sigstore bundle. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

const BUILDX_REFERENCE_TYPE = 'vnd.docker.reference.type';
const BUILDX_REFERENCE_DIGEST = 'vnd.docker.reference.digest';

/** A buildx attestation manifest listed in an index: the digest of the platform manifest it describes, else undefined. */
export function buildxAttestationSubject(descriptor: Pick<Descriptor, 'annotations'>): string | undefined {
  const annotations = descriptor.annotations ?? {};
  return annotations[BUILDX_REFERENCE_TYPE] === 'attestation-manifest' ? annotations[BUILDX_REFERENCE_DIGEST] : undefined;
}

/** The fields of an artifact manifest that a referrers list repeats. */
export const artifactFieldsSchema = z.looseObject({
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: z.looseObject({ mediaType: z.string() }).optional(),
  subject: z.looseObject({ digest: z.string() }).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** The entry of a referrers list for an artifact manifest (OCI distribution spec 1.1, "Listing Referrers"). */
export function referrerDescriptor(fields: z.infer<typeof artifactFieldsSchema>, descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>): Descriptor {
  const artifactType = fields.artifactType ?? fields.config?.mediaType;
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(fields.annotations === undefined ? {} : { annotations: fields.annotations }),
  };
}

export type AttachedKind = 'signature' | 'attestation' | 'SBOM' | 'Sigstore bundle' | 'artifact';
const COSIGN_TAG_KINDS: Record<CosignTagSuffix, AttachedKind> = { sig: 'signature', att: 'attestation', sbom: 'SBOM' };

/**
 * What an attached artifact is, for people reading a plan or a receipt: from cosign's tag, else
 * from the referrer's artifact type (what it claims, not what was checked: `verify` judges that).
 */
export function attachedKind(attached: { tag?: string | undefined; artifactType?: string | undefined }): AttachedKind {
  const suffix = attached.tag?.split('.').pop();
  if (suffix !== undefined && Object.hasOwn(COSIGN_TAG_KINDS, suffix)) return COSIGN_TAG_KINDS[suffix as CosignTagSuffix];
  const type = attached.artifactType ?? '';
  if (SIGSTORE_BUNDLE_TYPES.includes(type)) return 'Sigstore bundle';
  if (/spdx|cyclonedx/i.test(type)) return 'SBOM';
  if (type === DSSE_ENVELOPE || type === IN_TOTO || /in-toto|provenance|attestation/i.test(type)) return 'attestation';
  if (type === COSIGN_SIMPLE_SIGNING) return 'signature';
  return 'artifact';
}

const KIND_ORDER: readonly AttachedKind[] = ['signature', 'Sigstore bundle', 'attestation', 'SBOM', 'artifact'];

/** "1 signature, 1 attestation, 2 SBOMs": the kinds of an image's attached artifacts, counted, always in that order. */
export function describeAttached(attached: ReadonlyArray<{ tag?: string | undefined; artifactType?: string | undefined }>): string {
  const kinds = attached.map(attachedKind);
  return KIND_ORDER.flatMap((kind) => {
    const count = kinds.filter((k) => k === kind).length;
    return count === 0 ? [] : [`${count} ${kind}${count === 1 ? '' : 's'}`];
  }).join(', ');
}

/**
 * zod schemas for the OCI/Docker JSON documents airlock reads (from registries, layouts,
 * archives and bundles). Objects are loose: unknown fields are allowed and, since every
 * document is kept byte for byte, never lost.
 */
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';
import { DIGEST_PATTERN } from './digest.js';
import { isIndexType, isManifestType, isSchema1, OCI_INDEX, OCI_MANIFEST } from './media-types.js';

const platformSchema = z.looseObject({
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().min(1).optional(),
});

export const descriptorSchema = z.looseObject({
  mediaType: z.string().min(1),
  digest: z.string().regex(DIGEST_PATTERN, 'expected sha256:<64 hex>'),
  size: z.number().int().nonnegative(),
  platform: platformSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const imageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});

export const imageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});

/** The part of an image config that names its platform. */
export const imageConfigSchema = z.looseObject({
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().min(1).optional(),
});

export type Descriptor = z.infer<typeof descriptorSchema>;
export type ImageManifest = z.infer<typeof imageManifestSchema>;
export type ImageIndex = z.infer<typeof imageIndexSchema>;

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest };

/**
 * The document's own mediaType wins; `declared` (a descriptor's or Content-Type) is the fallback for
 * older OCI documents that omit it; the shape decides when neither is present.
 */
export function parseManifest(data: Buffer, declared: string | undefined, what: string): ParsedManifest {
  const shape = parseJson(z.looseObject({ mediaType: z.string().optional(), manifests: z.unknown().optional() }), data, what, 'IMAGE_INVALID');
  const mediaType = shape.mediaType ?? (declared && declared !== 'application/json' ? declared : shape.manifests !== undefined ? OCI_INDEX : OCI_MANIFEST);
  if (isSchema1(mediaType)) {
    throw new AirlockError('IMAGE_INVALID', `${what}: Docker schema 1 manifests are not supported (re-push the image with a current client)`);
  }
  if (isIndexType(mediaType)) return { kind: 'index', mediaType, index: parseJson(imageIndexSchema, data, what, 'IMAGE_INVALID') };
  if (isManifestType(mediaType)) return { kind: 'manifest', mediaType, manifest: parseJson(imageManifestSchema, data, what, 'IMAGE_INVALID') };
  throw new AirlockError('IMAGE_INVALID', `${what}: unsupported manifest media type ${mediaType}`);
}

export function formatPlatform(platform: { os: string; architecture: string; variant?: string | undefined }): string {
  return [platform.os, platform.architecture, platform.variant].filter((part) => part !== undefined && part !== '').join('/');
}

/** What a manifest points at: manifests to read (an index's entries) and blobs to carry (configs, layers, artifacts). */
export function childrenOf(parsed: ParsedManifest): { manifests: Descriptor[]; blobs: Descriptor[] } {
  if (parsed.kind === 'manifest') return { manifests: [], blobs: [parsed.manifest.config, ...parsed.manifest.layers] };
  const isDocument = (d: Descriptor) => isIndexType(d.mediaType) || isManifestType(d.mediaType);
  // An artifact listed directly in an index is carried as a plain blob.
  return { manifests: parsed.index.manifests.filter(isDocument), blobs: parsed.index.manifests.filter((d) => !isDocument(d)) };
}

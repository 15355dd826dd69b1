/**
 * airlock.json's `delta` record: this bundle leaves out image layer blobs its bases hold, and
 * says so in the signed manifest, so the omission is as signed as every carried byte. A bundle
 * without the record carries every blob its images need (docs/DELTA.md, docs/FORMAT.md).
 */
import { z } from 'zod';
import { TAR_BLOCK } from '../bundle/format.js';
import { paddedSize } from '../bundle/tar-header.js';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
/** A content digest: the hex SHA-256 of a bundle's SHA256SUMS. */
const contentDigest = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

export const deltaReleaseSchema = z.object({ name: z.string().min(1), version: z.string().min(1), digest: contentDigest });

const baseSchema = z.object({
  /** Where the holdings came from: a site's receipt, or an earlier bundle (its blobs, carried or held). */
  kind: z.enum(['receipt', 'bundle']),
  /** The site a receipt speaks for; null for a bundle. */
  site: z.string().nullable(),
  /** The release the site had installed (a receipt), or the bundle's own release; null for a site with nothing installed. */
  release: deltaReleaseSchema.nullable(),
});

const omittedBlobSchema = z.object({ digest, size: z.number().int().nonnegative() });

export const deltaSchema = z.object({
  /** Every base the build was cut against, sorted; a blob is left out only when all of them hold it. */
  bases: z.array(baseSchema).min(1),
  /** The layer blobs left out, sorted by digest: each one the site must hold before the install changes anything. */
  omitted: z.array(omittedBlobSchema),
});

export type DeltaRecord = z.infer<typeof deltaSchema>;
export type DeltaBase = z.infer<typeof baseSchema>;
export type OmittedBlob = z.infer<typeof omittedBlobSchema>;

/** How people read a base: `site plant-a (shop 1.0.0, content 0123456789abcdef…)`. */
export function describeBase(base: DeltaBase): string {
  const release = base.release === null ? 'nothing installed' : `${base.release.name} ${base.release.version}, content ${base.release.digest.slice(0, 16)}…`;
  return `${base.kind === 'receipt' ? `site ${base.site}` : 'bundle'} (${release})`;
}

export function omittedBytes(delta: DeltaRecord): number {
  return delta.omitted.reduce((sum, blob) => sum + blob.size, 0);
}

/**
 * About what the full bundle of the same release would weigh: this one plus each omitted blob
 * as a tar entry (a header block and its data, padded to the block). SHA256SUMS and airlock.json
 * would differ by a few hundred bytes.
 */
export function fullBundleBytes(deltaBytes: number, delta: DeltaRecord): number {
  return delta.omitted.reduce((sum, blob) => sum + TAR_BLOCK + paddedSize(blob.size), deltaBytes);
}

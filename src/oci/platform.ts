/**
 * Choosing platforms from an image index (pure). With no selection the index is kept as it is;
 * a selection of one platform pins that platform's manifest; a selection of several, short of
 * all, becomes a new index listing only them (so its digest differs from upstream's).
 */
import { AirlockError } from '../base/errors.js';
import { buildxAttestationSubject } from './attached.js';
import { formatPlatform, type Descriptor, type ImageIndex } from './schema.js';

export type PlatformChoice =
  | { kind: 'all' }
  | { kind: 'one'; descriptor: Descriptor }
  | { kind: 'subset'; positions: number[] };

/** `linux/arm` selects every linux/arm variant; `linux/arm/v7` only that one. */
function platformMatches(wanted: string, platform: string): boolean {
  const [os, architecture, variant] = wanted.split('/');
  const [pos, parchitecture, pvariant] = platform.split('/');
  return pos === os && parchitecture === architecture && (variant === undefined || pvariant === variant);
}

function matches(wanted: string, descriptor: Descriptor): boolean {
  return descriptor.platform !== undefined && platformMatches(wanted, formatPlatform(descriptor.platform));
}

/** Platforms an index offers, for messages and airlock.json (entries without a real platform, e.g. attestations, left out). */
export function indexPlatforms(index: ImageIndex): string[] {
  return index.manifests
    .filter((d) => d.platform && d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown')
    .map((d) => formatPlatform(d.platform!));
}

/**
 * With `attestations`, buildx's attestation manifest of every kept platform is kept beside it, so
 * one platform with an attestation becomes an index of the two rather than the bare manifest.
 */
export function choosePlatforms(index: ImageIndex, wanted: readonly string[] | undefined, what: string, attestations = false): PlatformChoice {
  if (wanted === undefined || wanted.length === 0) return { kind: 'all' };
  const positions = new Set<number>();
  for (const platform of wanted) {
    const found = index.manifests.flatMap((d, i) => (matches(platform, d) ? [i] : []));
    if (found.length === 0) {
      throw new AirlockError('IMAGE_NOT_FOUND', `${what}: no manifest for platform ${platform} (the index has ${indexPlatforms(index).join(', ') || 'no platforms'})`);
    }
    for (const i of found) positions.add(i);
  }
  if (attestations) {
    const kept = new Set([...positions].map((i) => index.manifests[i]!.digest));
    index.manifests.forEach((d, i) => {
      const subject = buildxAttestationSubject(d);
      if (subject !== undefined && kept.has(subject)) positions.add(i);
    });
  }
  const sorted = [...positions].sort((a, b) => a - b);
  if (sorted.length === index.manifests.length) return { kind: 'all' };
  if (sorted.length === 1) return { kind: 'one', descriptor: index.manifests[sorted[0]!]! };
  return { kind: 'subset', positions: sorted };
}

/**
 * The filtered index, built from the upstream document's own JSON so each kept descriptor
 * stays exactly as published; key order is fixed so the same selection always has the same digest.
 */
export function subsetIndex(original: Buffer, positions: readonly number[]): Buffer {
  const raw = JSON.parse(original.toString('utf8')) as { mediaType?: string; manifests: unknown[]; annotations?: unknown };
  const out: Record<string, unknown> = { schemaVersion: 2 };
  if (raw.mediaType !== undefined) out.mediaType = raw.mediaType;
  out.manifests = positions.map((i) => raw.manifests[i]);
  if (raw.annotations !== undefined) out.annotations = raw.annotations;
  return Buffer.from(JSON.stringify(out), 'utf8');
}

/** Whether a single image's config fits a selection (a single-platform image is kept only if it does). */
export function platformSelected(platform: string, wanted: readonly string[] | undefined): boolean {
  return wanted === undefined || wanted.length === 0 || wanted.some((w) => platformMatches(w, platform));
}

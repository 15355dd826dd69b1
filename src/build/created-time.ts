/**
 * The bundle's `created` time, which is also every tar entry's mtime. It never comes from
 * the clock, so the same inputs rebuild byte-identically:
 * SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/), else the
 * manifest's `created`, else the newest mtime among the input files; whole seconds always.
 */
import { AirlockError } from '../base/errors.js';
import { MAX_CREATED_SECONDS, type ReleaseManifest } from '../manifest/release.js';

export function resolveCreated(
  manifest: Pick<ReleaseManifest, 'created'>,
  env: Readonly<Record<string, string | undefined>>,
  /** The newest mtime among the input files (PackedRelease.newestInputMs). */
  newestInputMs: number,
): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    const seconds = /^\d{1,11}$/.test(epoch) ? Number(epoch) : Number.NaN;
    if (!(seconds <= MAX_CREATED_SECONDS)) {
      throw new AirlockError('USAGE', `SOURCE_DATE_EPOCH: expected whole seconds since 1970 (0 to ${MAX_CREATED_SECONDS}), got ${JSON.stringify(epoch)}`);
    }
    return new Date(seconds * 1000);
  }
  if (manifest.created !== undefined) return wholeSeconds(Date.parse(manifest.created));
  if (!Number.isFinite(newestInputMs)) throw new AirlockError('INTERNAL', 'no input files to take the created time from');
  return wholeSeconds(newestInputMs);
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** ISO form used in airlock.json: UTC, whole seconds, no fraction (`2025-06-01T12:00:00Z`). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

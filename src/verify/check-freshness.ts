/** A bundle past its signed expiry is refused, whatever else holds. */
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import type { Problem } from '../base/problem.js';

export function checkExpiry(manifest: BundleManifest, now: Date): Problem[] {
  if (manifest.expires === null || new Date(manifest.expires).getTime() > now.getTime()) return [];
  return [{ code: 'EXPIRED', message: `${manifest.name} ${manifest.version} expired at ${manifest.expires} (now ${now.toISOString()})`, path: 'airlock.json' }];
}

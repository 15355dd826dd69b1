/** airlock.json for a release, as a pure function of the manifest and what collection and image fetching found. */
import { FORMAT_VERSION, MANIFEST_PATH } from '../bundle/format.js';
import { AirlockError } from '../base/errors.js';
import { bundleManifestSchema, type BundleImage, type BundleManifest } from '../manifest/bundle-manifest.js';
import type { ReleaseManifest } from '../manifest/release.js';
import { durationSeconds } from '../manifest/release-durations.js';
import { validate } from '../base/validate.js';
import { isoSeconds } from './created-time.js';
import type { PackedRelease } from './pack-release.js';

export interface BundleFacts {
  /** From resolveCreated. */
  created: Date;
  /** In manifest order, as the images engineer's fetch describes them. */
  images: BundleImage[];
  builtBy: BundleManifest['builtBy'];
  /** The Sigstore trusted root keyless image policies were judged against, as a bundle path. */
  trustedRoot?: string;
  /** A delta build's record (plan-delta.ts). */
  delta?: BundleManifest['delta'];
}

/** `expires` as a time: a duration counts from created. Throws MANIFEST_INVALID when it is not after created. */
function resolveExpires(expires: string | undefined, created: Date): Date | null {
  if (expires === undefined) return null;
  const seconds = durationSeconds(expires);
  const time = seconds === undefined ? new Date(Math.floor(Date.parse(expires) / 1000) * 1000) : new Date(created.getTime() + seconds * 1000);
  if (time.getTime() <= created.getTime()) {
    throw new AirlockError('MANIFEST_INVALID', `expires: ${expires} is not after the bundle's created time ${isoSeconds(created)}`);
  }
  return time;
}

export function buildBundleManifest(
  manifest: ReleaseManifest,
  contents: Pick<PackedRelease, 'configs' | 'migrations' | 'hooks'>,
  facts: BundleFacts,
): BundleManifest {
  const expires = resolveExpires(manifest.expires, facts.created);
  const document: BundleManifest = {
    format: FORMAT_VERSION,
    name: manifest.name,
    version: manifest.version,
    created: isoSeconds(facts.created),
    expires: expires === null ? null : isoSeconds(expires),
    targets: { sites: manifest.targets.sites, environments: manifest.targets.environments },
    configs: contents.configs,
    migrations: contents.migrations,
    hooks: contents.hooks,
    images: facts.images,
    onHealthCheckFailure: manifest.onHealthCheckFailure,
    builtBy: facts.builtBy,
    ...(facts.trustedRoot ? { trustedRoot: facts.trustedRoot } : {}),
    ...(facts.delta ? { delta: facts.delta } : {}),
  };
  // A failure here is a bug in the build, not in the user's manifest.
  return validate(bundleManifestSchema, document, MANIFEST_PATH, 'INTERNAL');
}

/**
 * The bytes of airlock.json: the manifest as indented JSON and a newline, written into one
 * buffer. Appending the newline to the text first would copy it whole (35 MB at 200,000 files).
 */
export function manifestBytes(manifest: BundleManifest): Buffer {
  const text = JSON.stringify(manifest, null, 2);
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(text) + 1);
  bytes[bytes.write(text)] = 0x0a;
  return bytes;
}

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
 * The bytes of airlock.json: exactly `JSON.stringify(manifest, null, 2)` and a newline, made
 * piece by piece into buffers. The text whole, beside V8's own parts of it while it builds
 * it, was twice airlock.json's size in heap (70 MB at 200,000 files) on top of its bytes.
 */
export function manifestBytes(manifest: BundleManifest): Buffer {
  const chunks: Buffer[] = [];
  let pending = '';
  const out = (text: string) => {
    pending += text;
    if (pending.length >= CHUNK_CHARS) {
      chunks.push(Buffer.from(pending));
      pending = '';
    }
  };
  writeJson(manifest, '', 0, out);
  chunks.push(Buffer.from(`${pending}\n`));
  return Buffer.concat(chunks);
}

const CHUNK_CHARS = 256 * 1024;
/** airlock.json's containers are opened down to here (the manifest, configs, an environment's list); what lies deeper is small. */
const OPENED_DEPTH = 3;

/** JSON.stringify's indented form of `value`, given as pieces; what lies at OPENED_DEPTH is JSON.stringify's own, re-indented. */
function writeJson(value: unknown, indent: string, depth: number, out: (text: string) => void): void {
  if (depth >= OPENED_DEPTH || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // JSON text holds no raw newline but its own, so re-indenting is exact.
    const text = JSON.stringify(value, null, 2);
    out(indent === '' ? text : text.replaceAll('\n', `\n${indent}`));
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return out('[]');
    out('[\n');
    // Every index, holes included: JSON.stringify writes null for a hole as for undefined.
    for (let index = 0; index < value.length; index++) {
      out(inner);
      writeJson(stringifies(value[index]) ? value[index] : null, inner, depth + 1, out);
      out(index === value.length - 1 ? '\n' : ',\n');
    }
    return out(`${indent}]`);
  }
  const entries = Object.entries(value).filter(([, item]) => stringifies(item));
  if (entries.length === 0) return out('{}');
  out('{\n');
  entries.forEach(([key, item], index) => {
    out(`${inner}${JSON.stringify(key)}: `);
    writeJson(item, inner, depth + 1, out);
    out(index === entries.length - 1 ? '\n' : ',\n');
  });
  out(`${indent}}`);
}

/** What JSON.stringify writes rather than leaves out of an object (or writes as null in an array). */
function stringifies(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

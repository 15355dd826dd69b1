/**
 * Which endpoint of the distribution API a request path names (pure). The repository name is
 * everything between `/v2/` and the endpoint; it is checked against the spec's grammar here, and
 * tags and digests against theirs in the handlers.
 */
import { digestInvalid, OciError } from './errors.js';

export type Route =
  | { kind: 'ping' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'upload'; name: string };

/** distribution-spec: `<name>` */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const MAX_NAME = 255;

const ENDPOINTS: Array<[RegExp, (name: string, last: string) => Route]> = [
  [/^\/v2\/(.+)\/tags\/list$/, (name) => ({ kind: 'tags', name })],
  [/^\/v2\/(.+)\/blobs\/uploads(?:\/.*)?$/, (name) => ({ kind: 'upload', name })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (name, reference) => ({ kind: 'manifest', name, reference })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (name, digest) => ({ kind: 'blob', name, digest })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (name, digest) => ({ kind: 'referrers', name, digest })],
];

/** The route, or undefined for a path that is no endpoint of the API. */
export function routeOf(pathname: string): Route | undefined {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'ping' };
  if (pathname === '/v2/_catalog') return { kind: 'catalog' };
  for (const [pattern, route] of ENDPOINTS) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    const name = match[1]!;
    if (!NAME.test(name) || name.length > MAX_NAME) throw new OciError(400, 'NAME_INVALID', `${JSON.stringify(name)} is not a repository name`, { name });
    return route(name, decoded(match[2] ?? ''));
  }
  return undefined;
}

/** Clients may escape the `:` of a digest; a malformed escape is kept as written (and then found wanting). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** distribution-spec: a tag */
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** image-spec: `algorithm ":" encoded` */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isTag(reference: string): boolean {
  return TAG.test(reference);
}

/** A digest as the spec's grammar allows it; anything else is a 400 DIGEST_INVALID. */
export function checkDigest(value: string): string {
  if (!DIGEST.test(value)) throw digestInvalid(value);
  return value;
}

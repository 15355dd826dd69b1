/**
 * Paths a release manifest names: sources relative to the manifest's directory, and
 * destinations relative to the site's config root. Both are normalised to '/'-separated
 * relative form and must stay inside their base, so neither a build nor an install can
 * be pointed outside the tree it was given.
 */
import { posix } from 'node:path';
import { isSafeBundlePath } from '../bundle/safe-path.js';

/** What docs/FORMAT.md forbids in a bundle path besides escaping it. */
export const UNUSABLE_NAME = 'not usable in a bundle (backslash, control character, or a name over 255 bytes)';

export type RelativePath = { ok: true; path: string } | { ok: false; problem: string };

export interface RelativePathRules {
  /** Named in messages: "the manifest's directory", "the site's config root". */
  base: string;
  /** Whether '.' (the base itself) is acceptable. */
  allowBase: boolean;
  /** Whether a trailing '/' is acceptable (it is dropped). */
  allowTrailingSlash: boolean;
}

export function normalizeRelativePath(value: string, rules: RelativePathRules): RelativePath {
  if (value.startsWith('/')) return { ok: false, problem: `must be relative to ${rules.base}: ${value}` };
  if (!rules.allowTrailingSlash && value.endsWith('/') && value !== './') {
    return { ok: false, problem: `must not end with '/': ${value}` };
  }
  const path = posix.normalize(value).replace(/\/+$/, '');
  if (path === '..' || path.startsWith('../')) return { ok: false, problem: `escapes ${rules.base}: ${value}` };
  if (path === '.' || path === '') {
    return rules.allowBase ? { ok: true, path: '.' } : { ok: false, problem: `must name something below ${rules.base}: ${value}` };
  }
  if (!isSafeBundlePath(path)) return { ok: false, problem: `${UNUSABLE_NAME}: ${JSON.stringify(value)}` };
  return { ok: true, path };
}

export const SOURCE_RULES: RelativePathRules = { base: "the manifest's directory", allowBase: false, allowTrailingSlash: true };
export const DEST_RULES: RelativePathRules = { base: "the site's config root", allowBase: true, allowTrailingSlash: false };

/** How a source path is shown in messages: as written relative to the manifest, `./configs/prod/app.yaml`. */
export function displaySource(path: string): string {
  return `./${path}`;
}

/**
 * Where a bundle image goes in the isolated registry: the source registry's host is replaced by
 * the target's and the repository path is kept, optionally under a prefix:
 *   docker.io/library/nginx:1.25      -> <registry>/library/nginx:1.25
 *   ghcr.io/acme/api:2 (prefix mirror) -> <registry>/mirror/acme/api:2
 * The tag is kept; a digest-only reference is pushed by digest alone, untagged.
 */
import { AirlockError } from '../../base/errors.js';
import { formatReference, parseReference, type ImageReference } from '../../oci/reference.js';

export interface RepositoryMapping {
  /** Put every repository under this path (e.g. `mirror` or `team/base`). */
  prefix?: string;
}

const PREFIX = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function mapReference(ref: string, registry: string, mapping: RepositoryMapping = {}): ImageReference {
  const source = parseReference(ref);
  if (mapping.prefix !== undefined && !PREFIX.test(mapping.prefix)) {
    throw new AirlockError('USAGE', `repository prefix ${JSON.stringify(mapping.prefix)}: expected lowercase path components separated by /`);
  }
  const repository = mapping.prefix === undefined ? source.repository : `${mapping.prefix}/${source.repository}`;
  return { registry, repository, ...(source.tag === undefined ? {} : { tag: source.tag }) };
}

/**
 * Two images must not claim the same repository and tag with different content (images from
 * two registries with the same path and tag, say). `verb` and `remedy` word the refusal for the caller.
 */
export function assertNoCollisions(
  images: ReadonlyArray<{ ref: string; digest: string }>,
  destinations: readonly ImageReference[],
  wording: { verb: string; remedy: string },
): void {
  const claimed = new Map<string, { ref: string; digest: string }>();
  for (const [i, image] of images.entries()) {
    const destination = destinations[i]!;
    if (destination.tag === undefined) continue;
    const key = formatReference(destination);
    const other = claimed.get(key);
    if (other && other.digest !== image.digest) {
      throw new AirlockError('USAGE', `${other.ref} and ${image.ref} would both be ${wording.verb} as ${key}; ${wording.remedy}`);
    }
    claimed.set(key, image);
  }
}

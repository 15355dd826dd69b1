/**
 * Where a bundle image goes in the isolated registry: the source registry's host is replaced by
 * the target's and the repository path is kept, optionally under a prefix:
 *   docker.io/library/nginx:1.25      -> <registry>/library/nginx:1.25
 *   ghcr.io/acme/api:2 (prefix mirror) -> <registry>/mirror/acme/api:2
 * The tag is kept; a digest-only reference is pushed by digest alone, untagged.
 */
import { AirlockError } from '../../base/errors.js';
import { parseReference, type ImageReference } from '../../oci/reference.js';

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

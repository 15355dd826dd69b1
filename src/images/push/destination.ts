/** Where one image of a bundle ends up on a target, as people and receipts name it. */
import { formatReference, parseRegistryHost } from '../../oci/reference.js';
import { mapReference } from './repository-map.js';
import type { ImageTarget } from './types.js';

/** `<registry>/<repository>[:<tag>]` in a registry (a digest-only ref is pushed untagged), `<layout dir>:<ref>` in an OCI layout. */
export function imageDestination(target: ImageTarget, ref: string): string {
  if (target.kind === 'oci-layout') return `${target.dir}:${ref}`;
  return formatReference(mapReference(ref, parseRegistryHost(target.registry), target.repositoryMap));
}

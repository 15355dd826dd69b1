/**
 * Where a release's images go: an OCI registry on the isolated network, or an OCI image
 * layout directory (the embedded default). The pushing itself is src/images/'s; this is the
 * installer's side of it, reading blobs straight from the bundle.
 */
import { AirlockError } from '../../errors.js';
import type { ImagesTarget, Site } from '../../manifest/site.js';
import type { Output } from '../../ui/output.js';
import type { VerifiedBundle } from '../verified-bundle.js';

export interface ImagePusher {
  /** For people: registry host or layout directory. */
  readonly description: string;
  /** Pushes one image (skipping blobs the target has) and tags it with its ref. Idempotent. */
  push(image: { ref: string; digest: string }): Promise<void>;
}

/** The site's image target, or the registry given with --registry (keeping the site's registry settings). */
export function siteImageTarget(site: Site, registry: string | undefined): ImagesTarget | undefined {
  if (registry === undefined) return site.images;
  const base = site.images?.kind === 'registry' ? site.images : undefined;
  return { kind: 'registry', registry, insecure: base?.insecure ?? false, credentialsEnv: base?.credentialsEnv };
}

export function describeImageTarget(target: ImagesTarget): string {
  return target.kind === 'registry' ? `registry ${target.registry}${target.insecure ? ' (plain HTTP)' : ''}` : `OCI layout ${target.dir}`;
}

export function openImagePusher(bundle: VerifiedBundle, target: ImagesTarget, output: Output): ImagePusher {
  void bundle;
  void output;
  return {
    description: describeImageTarget(target),
    push: async (image) => {
      throw new AirlockError('INTERNAL', `${image.ref}: pushing images is not wired into the installer yet`);
    },
  };
}

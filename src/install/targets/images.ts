/**
 * Where a release's images go: an OCI registry on the isolated network, or an OCI image
 * layout directory (the embedded default). The pushing itself is src/images/'s pushImages;
 * this is the installer's side of it: blobs are read straight from the bundle (pushImages
 * checks every blob against its digest as it streams), one image per journaled step.
 */
import { stat } from 'node:fs/promises';
import { AirlockError } from '../../base/errors.js';
import { OciLayout } from '../../images/layout.js';
import { bundleBlobSource, pushImages, type ImageTarget } from '../../images/push/push.js';
import { mapReference } from '../../images/push/repository-map.js';
import { getManifest, putManifest } from '../../images/registry/manifests.js';
import { parseRegistryHost } from '../../oci/reference.js';
import { RegistryTransport } from '../../images/registry/transport.js';
import type { SiteImageTarget, Site } from '../../manifest/site.js';
import type { Output } from '../../ui/output.js';
import type { VerifiedBundle } from '../verified-bundle.js';

export interface ImagePusher {
  /** For people: registry host or layout directory. */
  readonly description: string;
  /** Pushes one image (skipping blobs the target has) and tags it with its ref. Idempotent. */
  push(image: { ref: string; digest: string }): Promise<void>;
}

/** The site's image target, or the registry given with --registry (keeping the site's credentials and prefix). */
export function siteImageTarget(site: Site, registry: { host: string; insecure: boolean } | undefined): SiteImageTarget | undefined {
  if (registry === undefined) return site.images;
  const base = site.images?.kind === 'registry' ? site.images : undefined;
  return { ...base, kind: 'registry', registry: registry.host, insecure: registry.insecure };
}

export function describeImageTarget(target: SiteImageTarget): string {
  return target.kind === 'registry' ? `registry ${target.registry}${target.insecure ? ' (plain HTTP)' : ''}` : `OCI layout ${target.dir}`;
}

function envValue(name: string, what: string): string {
  const value = process.env[name];
  if (value === undefined) throw new AirlockError('VARIABLE_MISSING', `environment variable ${name} (the registry ${what} named by credentialsEnv) is not set`);
  return value;
}

function pushTarget(target: SiteImageTarget): ImageTarget {
  if (target.kind === 'oci-layout') return { kind: 'oci-layout', dir: target.dir };
  return {
    kind: 'registry',
    registry: target.registry,
    insecure: target.insecure,
    ...(target.credentialsEnv === undefined
      ? {}
      : { credentials: { username: envValue(target.credentialsEnv.username, 'user name'), password: envValue(target.credentialsEnv.password, 'password') } }),
    ...(target.repositoryPrefix === undefined ? {} : { repositoryMap: { prefix: target.repositoryPrefix } }),
  };
}

export function openImagePusher(bundle: VerifiedBundle, target: SiteImageTarget, output: Output): ImagePusher {
  const source = bundleBlobSource(bundle.reader);
  const destination = pushTarget(target);
  return {
    description: describeImageTarget(target),
    async push(step) {
      const image = bundle.manifest.images.find((candidate) => candidate.ref === step.ref && candidate.digest === step.digest);
      if (image === undefined) throw new AirlockError('JOURNAL_INVALID', `${step.ref}@${step.digest}: the journal names an image this bundle does not carry`);
      await pushImages(source, [image], destination, { output });
    },
  };
}

/**
 * Points `ref`'s tag back at `digest` (a rollback), where the target still holds that image:
 * a registry gets the manifest PUT under the tag again, an OCI layout gets its index.json entry
 * replaced. Idempotent.
 */
export async function retagImage(target: SiteImageTarget, image: { ref: string; digest: string; mediaType: string }, output: Output): Promise<void> {
  const destination = pushTarget(target);
  if (destination.kind === 'oci-layout') {
    const layout = await OciLayout.open(destination.dir, { create: false, durable: true });
    const { size } = await stat(layout.blobPath(image.digest)).catch((cause: unknown) => {
      throw new AirlockError('IMAGE_NOT_FOUND', `${image.ref}: ${image.digest} is no longer in ${destination.dir}; cannot point the tag back at it`, { cause });
    });
    await layout.tagImages([{ ref: image.ref, descriptor: { mediaType: image.mediaType, digest: image.digest, size } }]);
    return;
  }
  const registry = parseRegistryHost(destination.registry);
  const to = mapReference(image.ref, registry, destination.repositoryMap);
  if (to.tag === undefined) return;
  const transport = new RegistryTransport(registry, {
    insecure: destination.insecure === true,
    ...(destination.credentials ? { credentials: destination.credentials } : {}),
    onRetry: (message) => output.debug(message),
  });
  try {
    const manifest = await getManifest(transport, to.repository, image.digest, image.ref);
    await putManifest(transport, to.repository, to.tag, { bytes: manifest.bytes, digest: manifest.digest, mediaType: manifest.contentType ?? image.mediaType }, image.ref);
  } finally {
    transport.close();
  }
}

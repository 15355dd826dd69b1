/**
 * Where a release's images go: an OCI registry on the isolated network, or an OCI image
 * layout directory (the embedded default). The pushing itself is src/images/'s pushImages;
 * this is the installer's side of it: the target is settled (and a bundle with images refused
 * on a site without one) before any payload byte is read, then blobs are read straight from
 * the bundle (pushImages checks every blob against its digest as it streams), one image per
 * journaled step.
 */
import { stat } from 'node:fs/promises';
import { AirlockError } from '../../base/errors.js';
import { OciLayout } from '../../images/layout.js';
import { bundleBlobSource, imageDestination, openImagePush, type ImagePush, type ImageTarget } from '../../images/push/push.js';
import { mapReference } from '../../images/push/repository-map.js';
import { getManifest, putManifest } from '../../images/registry/manifests.js';
import { parseRegistryHost } from '../../oci/reference.js';
import { targetTransport } from '../../images/push/target-transport.js';
import type { BundleManifest } from '../../manifest/bundle-manifest.js';
import type { Site, SiteImageTarget } from '../../manifest/site.js';
import type { Output } from '../../ui/output.js';
import type { VerifiedBundle } from '../../verify/verified-bundle.js';
import type { InstallStep } from '../install-steps.js';

/** The image target of this run, resolved: credentials read from their environment variables. */
export interface SiteImages {
  readonly target: ImageTarget;
  /** For people: registry host or layout directory. */
  readonly description: string;
  /** Where an image of the bundle goes: `<registry>/<repository>:<tag>`, or `<layout dir>:<ref>`. */
  destination(ref: string): string;
}

export interface ImagePusher {
  /** The target this run pushes to (the site's, or --registry). */
  readonly target: ImageTarget;
  /** Pushes one image (skipping blobs the target has) and tags it with its ref. Idempotent. */
  push(step: Extract<InstallStep, { kind: 'image' }>): Promise<void>;
  /** Ends the push: transfers started ahead for later images settle, connections close. */
  close(): Promise<void>;
}

/**
 * The site's image target, or the registry given with --registry (keeping the site's
 * credentials and prefix); undefined for a release without images, SITE_INVALID for one with
 * images and nowhere to put them.
 */
export function siteImages(site: Site, manifest: BundleManifest, registry: { host: string; insecure: boolean } | undefined): SiteImages | undefined {
  if (manifest.images.length === 0) return undefined;
  const base = site.images?.kind === 'registry' ? site.images : undefined;
  const chosen: SiteImageTarget | undefined = registry === undefined ? site.images : { ...base, kind: 'registry', registry: registry.host, insecure: registry.insecure };
  if (chosen === undefined) {
    throw new AirlockError('SITE_INVALID', `${site.file}: the bundle carries ${manifest.images.length} image(s), but targets.images is not set (or pass --registry)`);
  }
  const target = resolveImageTarget(chosen);
  return {
    target,
    description: chosen.kind === 'registry' ? `registry ${chosen.registry}${chosen.insecure ? ' (plain HTTP)' : ''}` : `OCI layout ${chosen.dir}`,
    destination: (ref) => imageDestination(target, ref),
  };
}

function envValue(name: string, what: string): string {
  const value = process.env[name];
  if (value === undefined) throw new AirlockError('VARIABLE_MISSING', `environment variable ${name} (the registry ${what} named by credentialsEnv) is not set`);
  return value;
}

/** The site file's image target, resolved (credentials from their environment variables); undefined when it names none. */
export function siteImageTarget(site: Site): ImageTarget | undefined {
  return site.images === undefined ? undefined : resolveImageTarget(site.images);
}

function resolveImageTarget(target: SiteImageTarget): ImageTarget {
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

/** `held`: where the site holds a delta's omitted blobs (install/delta-base.ts), which are then never uploaded. */
export function openImagePusher(bundle: VerifiedBundle, images: SiteImages, output: Output, held?: ReadonlyMap<string, string>): ImagePusher {
  const source = bundleBlobSource(bundle.reader);
  // One push for every image step of the run, opened at the first: connections and blobs sent are shared.
  let opened: Promise<ImagePush> | undefined;
  return {
    target: images.target,
    async push(step) {
      const image = bundle.manifest.images.find((candidate) => candidate.ref === step.ref && candidate.digest === step.digest);
      if (image === undefined) throw new AirlockError('JOURNAL_INVALID', `${step.ref}@${step.digest}: the journal names an image this bundle does not carry`);
      const destination = images.destination(step.ref);
      if (destination !== step.target) {
        throw new AirlockError('JOURNAL_INVALID', `${step.ref}: this install began pushing to ${step.target}, not ${destination}: run it again with the same image target (--registry)`);
      }
      opened ??= openImagePush(source, bundle.manifest.images, images.target, { output, ...(held ? { held } : {}) });
      await (await opened).push(image);
    },
    async close() {
      const push = await opened?.catch(() => undefined);
      opened = undefined;
      await push?.close();
    },
  };
}

/**
 * Points `ref`'s tag back at `digest` (a rollback), where the target still holds that image:
 * a registry gets the manifest PUT under the tag again, an OCI layout gets its index.json entry
 * replaced. Idempotent.
 */
export async function retagImage(target: SiteImageTarget, image: { ref: string; digest: string; mediaType: string }, output: Output): Promise<void> {
  const destination = resolveImageTarget(target);
  if (destination.kind === 'oci-layout') {
    const layout = await OciLayout.open(destination.dir, { create: false, durable: true });
    const { size } = await stat(layout.blobPath(image.digest)).catch((cause: unknown) => {
      throw new AirlockError('IMAGE_NOT_FOUND', `${image.ref}: ${image.digest} is no longer in ${destination.dir}; cannot point the tag back at it`, { cause });
    });
    await layout.tagImages([{ ref: image.ref, descriptor: { mediaType: image.mediaType, digest: image.digest, size } }]);
    return;
  }
  const to = mapReference(image.ref, parseRegistryHost(destination.registry), destination.repositoryMap);
  if (to.tag === undefined) return;
  const transport = await targetTransport(destination, output);
  try {
    const manifest = await getManifest(transport, to.repository, image.digest, image.ref);
    await putManifest(transport, to.repository, to.tag, { bytes: manifest.bytes, digest: manifest.digest, mediaType: manifest.contentType ?? image.mediaType }, image.ref);
  } finally {
    transport.close();
  }
}

/**
 * Where a release's images go: an OCI registry on the isolated network, or an OCI image
 * layout directory (the embedded default). The pushing itself is src/images/'s pushImages;
 * this is the installer's side of it: blobs are read straight from the bundle (pushImages
 * checks every blob against its digest as it streams), one image per journaled step.
 */
import { AirlockError } from '../../errors.js';
import { bundleBlobSource, pushImages, type ImageTarget } from '../../images/push/push.js';
import type { ImagesTarget, Site } from '../../manifest/site.js';
import type { Output } from '../../ui/output.js';
import type { VerifiedBundle } from '../verified-bundle.js';

export interface ImagePusher {
  /** For people: registry host or layout directory. */
  readonly description: string;
  /** Pushes one image (skipping blobs the target has) and tags it with its ref. Idempotent. */
  push(image: { ref: string; digest: string }): Promise<void>;
}

/** The site's image target, or the registry given with --registry (keeping the site's credentials and prefix). */
export function siteImageTarget(site: Site, registry: { host: string; insecure: boolean } | undefined): ImagesTarget | undefined {
  if (registry === undefined) return site.images;
  const base = site.images?.kind === 'registry' ? site.images : undefined;
  return { ...base, kind: 'registry', registry: registry.host, insecure: registry.insecure };
}

export function describeImageTarget(target: ImagesTarget): string {
  return target.kind === 'registry' ? `registry ${target.registry}${target.insecure ? ' (plain HTTP)' : ''}` : `OCI layout ${target.dir}`;
}

function envValue(name: string, what: string): string {
  const value = process.env[name];
  if (value === undefined) throw new AirlockError('VARIABLE_MISSING', `environment variable ${name} (the registry ${what} named by credentialsEnv) is not set`);
  return value;
}

function pushTarget(target: ImagesTarget): ImageTarget {
  if (target.kind === 'oci-layout') return { kind: 'oci-dir', dir: target.dir };
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

export function openImagePusher(bundle: VerifiedBundle, target: ImagesTarget, output: Output): ImagePusher {
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

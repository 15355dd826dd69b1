/**
 * Read-only questions to a site's image target, the same for a registry and an OCI layout:
 * does it hold this manifest or blob (registry: GET/HEAD in a repository; layout: the blob file
 * with the right size), and do a held blob's bytes still hash to its digest. Nothing here
 * writes, deletes or "repairs" anything: receipts and the delta check must leave the site as it is.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AirlockError, isAirlockError } from '../../base/errors.js';
import { sha256File, sha256Stream } from '../../hash/digest.js';
import { digestHex, sha256Digest } from '../../oci/digest.js';
import { parseRegistryHost } from '../../oci/reference.js';
import type { Descriptor } from '../../oci/schema.js';
import type { Output } from '../../ui/output.js';
import type { BlobSource } from '../push/blob-source.js';
import { imageDestination } from '../push/destination.js';
import { mapReference } from '../push/repository-map.js';
import { targetTransport } from '../push/target-transport.js';
import type { ImageTarget } from '../push/types.js';
import { blobExists, openBlob } from '../registry/blobs.js';
import { getManifest } from '../registry/manifests.js';
import type { RegistryTransport } from '../registry/transport.js';

export interface TargetProbe {
  readonly kind: ImageTarget['kind'];
  /** host[:port] of the registry, or the layout directory. */
  readonly location: string;
  /** For people: `registry <host>` or `OCI layout <dir>`. */
  readonly description: string;
  /** The repository an image of `ref` is pushed to; `''` in a layout, which has one blob store. */
  repository(ref: string): string;
  /** Where an image of `ref` goes, as plans and receipts name it. */
  destination(ref: string): string;
  /** A manifest or index by digest in `repository`, checked against it; undefined when the target lacks it. */
  manifest(repository: string, digest: string): Promise<Buffer | undefined>;
  /** Whether `repository` holds the blob, with its size. */
  holds(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<boolean>;
  /** Whether the blob `repository` holds still hashes to its digest (its bytes are read). */
  rehash(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<boolean>;
  close(): void;
}

export async function openProbe(target: ImageTarget, output: Output): Promise<TargetProbe> {
  const probe = target.kind === 'oci-layout' ? layoutProbe(target.dir) : registryProbe(target, await targetTransport(target, output));
  // A walk asks for a top manifest twice (for its size, then to parse it): each is fetched once.
  const fetched = new Map<string, Promise<Buffer | undefined>>();
  return {
    ...probe,
    destination: (ref) => imageDestination(target, ref),
    manifest(repository, digest) {
      const key = `${repository}@${digest}`;
      if (!fetched.has(key)) fetched.set(key, probe.manifest(repository, digest));
      return fetched.get(key)!;
    },
  };
}

/**
 * The manifests of one repository of the target, as the push code's graph walker reads a bundle's;
 * a manifest the target lacks is IMAGE_NOT_FOUND (an image no longer held).
 */
export function manifestSource(probe: TargetProbe, repository: string): BlobSource {
  const unused = (): never => {
    throw new AirlockError('INTERNAL', "a target's manifests are read only with open()");
  };
  return {
    open: (digest) =>
      Readable.from(
        (async function* () {
          const bytes = await probe.manifest(repository, digest);
          if (bytes === undefined) throw new AirlockError('IMAGE_NOT_FOUND', `${probe.description}: ${repository || 'the layout'} no longer holds manifest ${digest}`);
          yield bytes;
        })(),
      ),
    size: unused,
    readJson: unused,
  };
}

function layoutProbe(dir: string): Omit<TargetProbe, 'destination'> {
  const path = (digest: string) => join(dir, 'blobs', 'sha256', digestHex(digest));
  const sizeOf = (digest: string) =>
    stat(path(digest)).then(
      (stats) => (stats.isFile() ? stats.size : undefined),
      () => undefined,
    );
  return {
    kind: 'oci-layout',
    location: dir,
    description: `OCI layout ${dir}`,
    repository: () => '',
    async manifest(_repository, digest) {
      const bytes = await readFile(path(digest)).catch(() => undefined);
      return bytes !== undefined && sha256Digest(bytes) === digest ? bytes : undefined;
    },
    holds: async (_repository, descriptor) => (await sizeOf(descriptor.digest)) === descriptor.size,
    rehash: async (_repository, descriptor) => (await sizeOf(descriptor.digest)) === descriptor.size && `sha256:${await sha256File(path(descriptor.digest))}` === descriptor.digest,
    close: () => undefined,
  };
}

function registryProbe(target: Extract<ImageTarget, { kind: 'registry' }>, transport: RegistryTransport): Omit<TargetProbe, 'destination'> {
  const registry = parseRegistryHost(target.registry);
  const notFound = (error: unknown) => {
    if (isAirlockError(error, 'IMAGE_NOT_FOUND')) return undefined;
    throw error;
  };
  return {
    kind: 'registry',
    location: registry,
    description: `registry ${registry}`,
    repository: (ref) => mapReference(ref, registry, target.repositoryMap).repository,
    manifest: (repository, digest) => getManifest(transport, repository, digest, `${registry}/${repository}`).then((found) => found.bytes, notFound),
    holds: (repository, descriptor) => blobExists(transport, repository, { mediaType: 'application/octet-stream', ...descriptor }),
    async rehash(repository, descriptor) {
      const body = await openBlob(transport, repository, { mediaType: 'application/octet-stream', ...descriptor }, `${registry}/${repository}`).catch(notFound);
      return body !== undefined && `sha256:${await sha256Stream(body)}` === descriptor.digest;
    },
    close: () => transport.close(),
  };
}

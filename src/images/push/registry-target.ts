/**
 * Pushing images into a registry: blobs the repository has are skipped (HEAD), blobs another
 * repository of the same registry holds are mounted, the rest uploaded; then manifests go up by
 * digest (children first) and the image is tagged. The exact bundle bytes are sent, so the
 * registry's digests are the bundle's.
 *
 * Many images are one push: every blob transfer of the run goes through one limiter as wide as
 * the connections to the registry, so blobs of the next images move while an image's manifests
 * go up, and a blob shared by many images (a base layer) is sent once: the first repository
 * that needs it gets it, every other one mounts it from there as soon as it has landed.
 */
import { isAirlockError } from '../../base/errors.js';
import type { Descriptor } from '../../oci/schema.js';
import type { ByteProgress } from '../../ui/progress.js';
import { blobExists, mountBlob, uploadBlob } from '../registry/blobs.js';
import { manifestExists, putManifest } from '../registry/manifests.js';
import { formatReference, type ImageReference } from '../../oci/reference.js';
import type { RegistryTransport } from '../registry/transport.js';
import type { BlobSource } from './blob-source.js';
import type { ImageContents } from './bundle-graph.js';
import { Limiter } from './limiter.js';
import { heldBlobGone, type BlobEvent, type PushedImage, type PushOptions } from './types.js';

type Outcome = Exclude<BlobEvent['outcome'], 'copied'>;

export class RegistryPush {
  /** The byte bar of the image being pushed now; transfers started ahead count there too. */
  progress: ByteProgress = { add: () => undefined, stop: () => undefined };
  private readonly limiter: Limiter;
  /** Blob transfers by repository and digest, in flight or done; a failed one is forgotten, so a later need tries again. */
  private readonly transfers = new Map<string, Promise<Outcome>>();
  /** Each blob's first transfer of this run, and whether it left the blob in that repository by this run's doing. */
  private readonly firsts = new Map<string, Promise<{ repository: string; landed: boolean }>>();

  constructor(
    readonly transport: RegistryTransport,
    readonly source: BlobSource,
    readonly chunkSize: number,
    readonly options: PushOptions,
    /** Repositories that may hold each blob: those of every image of the bundle (pushed in an earlier, interrupted run, say). */
    private readonly holders: ReadonlyMap<string, ReadonlySet<string>>,
  ) {
    this.limiter = new Limiter(transport.connections);
  }

  /** Starts an image's blob transfers without waiting for them (its push, later, waits). */
  prefetch(repository: string, contents: ImageContents, what: string): void {
    for (const descriptor of contents.blobs) {
      // A failure here is met again (and reported) when the image itself is pushed.
      this.blob(repository, descriptor, what).catch(() => undefined);
    }
  }

  /** Lets running transfers settle; none starts after. */
  close(): Promise<void> {
    return this.limiter.close();
  }

  blob(repository: string, descriptor: Descriptor, what: string): Promise<Outcome> {
    const key = `${repository} ${descriptor.digest}`;
    let transfer = this.transfers.get(key);
    if (transfer === undefined) {
      transfer = this.transfer(repository, descriptor, what);
      this.transfers.set(key, transfer);
      const settled = transfer;
      settled.catch(() => this.transfers.get(key) === settled && this.transfers.delete(key));
    }
    return transfer;
  }

  private async transfer(repository: string, descriptor: Descriptor, what: string): Promise<Outcome> {
    const first = this.firsts.get(descriptor.digest);
    if (first === undefined) {
      const mine = this.limiter.run(() => this.send(repository, descriptor, what));
      const landing = mine.then((outcome) => ({ repository, landed: outcome !== 'skipped' }));
      // Its failure is reported through `mine`; a later transfer of the blob only learns there is no copy to mount.
      landing.catch(() => undefined);
      this.firsts.set(descriptor.digest, landing);
      return mine;
    }
    // Waited for outside the limiter: a transfer holding a slot must not wait for one queued behind it.
    const earlier = await first.catch(() => undefined);
    if (earlier?.landed !== true || earlier.repository === repository) return this.limiter.run(() => this.send(repository, descriptor, what));
    // It landed in this run, so this repository cannot have had it: mount at once, no HEAD first.
    return this.limiter.run(async () => {
      const session = await mountBlob(this.transport, repository, descriptor.digest, earlier.repository);
      if (session === undefined) return 'mounted';
      await this.upload(repository, descriptor, what, session);
      return 'uploaded';
    });
  }

  /** HEAD, then a mount from where the blob may be, then an upload. */
  private async send(repository: string, descriptor: Descriptor, what: string): Promise<Outcome> {
    if (await this.holds(repository, descriptor, what)) return 'skipped';
    // A delta's omitted blob comes from where the site holds it, or not at all.
    const held = this.options.held?.get(descriptor.digest);
    const from = held ?? [...(this.holders.get(descriptor.digest) ?? [])].find((other) => other !== repository);
    let session: URL | undefined;
    if (from !== undefined && from !== repository) {
      session = await mountBlob(this.transport, repository, descriptor.digest, from);
      if (session === undefined) return 'mounted';
    }
    if (held !== undefined) throw heldBlobGone(what, descriptor.digest, `${this.transport.registry}/${held}`);
    await this.upload(repository, descriptor, what, session);
    return 'uploaded';
  }

  /**
   * HEAD of the blob. A registry killed while it committed a blob can be left with a broken record
   * of it that fails every HEAD (distribution: HTTP 500 "invalid checksum digest format" from an
   * empty link file); uploading the blob again rewrites that record, so such a blob is sent again.
   */
  private async holds(repository: string, descriptor: Descriptor, what: string): Promise<boolean> {
    try {
      return await blobExists(this.transport, repository, descriptor);
    } catch (error) {
      if (!isAirlockError(error, 'REGISTRY_ERROR') || this.options.held?.has(descriptor.digest)) throw error;
      this.options.output.warn(`airlock: ${what}: ${error.message}; sending blob ${descriptor.digest} again`);
      return false;
    }
  }

  private upload(repository: string, descriptor: Descriptor, what: string, session: URL | undefined): Promise<void> {
    return uploadBlob(this.transport, repository, descriptor, () => this.source.open(descriptor.digest), {
      chunkSize: this.chunkSize,
      ...(session ? { location: session } : {}),
      onBytes: (bytes) => this.progress.add(bytes),
      what,
    });
  }
}

export function pushTarget(ref: string, destination: ImageReference): string {
  return `${ref} -> ${formatReference(destination)}`;
}

/** One image (or attached artifact): its blobs (started ahead, maybe), then its manifests, then its tag. */
export async function pushToRegistry(push: RegistryPush, ref: string, contents: ImageContents, destination: ImageReference): Promise<PushedImage> {
  const { transport } = push;
  const repository = destination.repository;
  const what = pushTarget(ref, destination);
  const result: PushedImage = {
    ref,
    target: formatReference(destination),
    digest: contents.manifests.at(-1)!.descriptor.digest,
    blobs: { transferred: 0, mounted: 0, skipped: 0 },
    bytesTransferred: 0,
  };
  let failure: { error: unknown } | undefined;
  await Promise.all(
    contents.blobs.map(async (descriptor) => {
      let outcome: Outcome;
      try {
        outcome = await push.blob(repository, descriptor, what);
      } catch (error) {
        // After the first failure nothing new starts (the push is over); what runs is let settle.
        if (failure === undefined) failure = { error };
        void push.close();
        return;
      }
      if (outcome === 'uploaded') {
        result.blobs.transferred++;
        result.bytesTransferred += descriptor.size;
      } else {
        push.progress.add(descriptor.size);
        result.blobs[outcome]++;
      }
      push.options.output.debug(`${what}: blob ${descriptor.digest} ${outcome}`);
      push.options.onProgress?.({ ref, digest: descriptor.digest, size: descriptor.size, outcome });
    }),
  );
  if (failure !== undefined) throw failure.error;

  const top = contents.manifests.at(-1)!;
  for (const manifest of contents.manifests) {
    // The image's own manifest goes up under its tag: that one PUT stores it under its digest too.
    if (manifest === top && destination.tag !== undefined) break;
    if (await manifestExists(transport, repository, manifest.descriptor.digest)) continue;
    await putManifest(transport, repository, manifest.descriptor.digest, { ...manifest.descriptor, bytes: manifest.bytes }, what);
  }
  if (destination.tag !== undefined) await putManifest(transport, repository, destination.tag, { ...top.descriptor, bytes: top.bytes }, what);
  return result;
}

export function holdersOf(holders: Map<string, Set<string>>, digest: string): Set<string> {
  let set = holders.get(digest);
  if (!set) {
    set = new Set();
    holders.set(digest, set);
  }
  return set;
}

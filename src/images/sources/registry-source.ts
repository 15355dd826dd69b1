/** An image pulled from a registry by tag or digest. */
import type { Readable } from 'node:stream';
import { openBlob } from '../registry/blobs.js';
import { getManifest } from '../registry/manifests.js';
import { findManifest, getReferrers } from '../registry/referrers.js';
import { listTags } from '../registry/tags.js';
import { formatReference, type ImageReference } from '../../oci/reference.js';
import type { RegistryTransport } from '../registry/transport.js';
import type { Descriptor } from '../../oci/schema.js';
import type { ImageSource } from './source.js';

export class RegistrySource implements ImageSource {
  readonly what: string;
  /** The repository's tags, listed once: most tags looked for (cosign's, the referrers tag) are not there. */
  private tags: Promise<ReadonlySet<string> | undefined> | undefined;

  constructor(
    private readonly transport: RegistryTransport,
    private readonly reference: ImageReference,
    ref: string,
  ) {
    const full = formatReference(reference);
    this.what = full === ref ? ref : `${ref} (${full})`;
  }

  async root(): Promise<{ bytes: Buffer; contentType?: string }> {
    // A ref with both tag and digest is pinned: the digest is what is fetched (and checked).
    const fetched = await getManifest(this.transport, this.reference.repository, this.reference.digest ?? this.reference.tag!, this.what);
    return { bytes: fetched.bytes, ...(fetched.contentType ? { contentType: fetched.contentType } : {}) };
  }

  async manifest(descriptor: Descriptor): Promise<Buffer> {
    return (await getManifest(this.transport, this.reference.repository, descriptor.digest, this.what)).bytes;
  }

  referrers(digest: string): Promise<Descriptor[] | undefined> {
    return getReferrers(this.transport, this.reference.repository, digest, this.what);
  }

  async tagged(tag: string): Promise<{ bytes: Buffer; contentType?: string } | undefined> {
    this.tags ??= listTags(this.transport, this.reference.repository, this.what);
    const listed = await this.tags;
    if (listed !== undefined && !listed.has(tag)) return undefined;
    const found = await findManifest(this.transport, this.reference.repository, tag, this.what);
    return found && { bytes: found.bytes, ...(found.contentType ? { contentType: found.contentType } : {}) };
  }

  blob(descriptor: Descriptor): Promise<Readable> {
    return openBlob(this.transport, this.reference.repository, descriptor, this.what);
  }

  retrying<T>(run: () => Promise<T>): Promise<T> {
    return this.transport.retrying(run);
  }
}

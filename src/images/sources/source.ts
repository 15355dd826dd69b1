/** Where an image's documents and blobs come from while it is collected into the bundle. */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../../oci/schema.js';

export interface ImageSource {
  /** Names the image in messages: the spec's ref, plus where it was read from. */
  readonly what: string;
  /** The top-level manifest or index as published (its digest is the hash of these bytes). */
  root(): Promise<{ bytes: Buffer; contentType?: string }>;
  /** A manifest by descriptor; the caller checks it against the descriptor. */
  manifest(descriptor: Descriptor): Promise<Buffer>;
  /** A blob's bytes; the caller checks digest and size while they stream. */
  blob(descriptor: Descriptor): Promise<Readable>;
  /**
   * Artifact manifests that name `digest` as their subject, as the source lists them itself (a
   * registry's referrers API, a layout's untagged entries); undefined when it has no such list.
   */
  referrers(digest: string): Promise<Descriptor[] | undefined>;
  /** The document under a tag (the referrers tag fallback, cosign's tags), or undefined. */
  tagged(tag: string): Promise<{ bytes: Buffer; contentType?: string } | undefined>;
  /** Runs a whole blob transfer again on transient failures (network sources only). */
  retrying<T>(run: () => Promise<T>): Promise<T>;
}

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
  /** Runs a whole blob transfer again on transient failures (network sources only). */
  retrying<T>(run: () => Promise<T>): Promise<T>;
}

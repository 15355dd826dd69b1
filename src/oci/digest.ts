/**
 * Digests as the OCI spec writes them (`sha256:<hex>`), and a pass-through stream that
 * checks a blob's digest and size while it flows, so no blob is ever held in memory
 * or trusted before its last byte has been hashed.
 */
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { AirlockError } from '../base/errors.js';

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part, after checking the algorithm: only sha256 is accepted, and never a path-like value. */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new AirlockError('IMAGE_INVALID', `unsupported or malformed digest ${JSON.stringify(digest)} (expected sha256:<64 hex>)`);
  return digest.slice('sha256:'.length);
}

export interface Expected {
  digest: string;
  size: number;
  /** Names the blob's origin in the error, e.g. `docker.io/library/nginx:1.25`. */
  what: string;
}

function sizeMismatch(expected: Expected, actual: number): AirlockError {
  return new AirlockError('IMAGE_INVALID', `${expected.what}: blob ${expected.digest} has ${actual} bytes, expected ${expected.size}`);
}

function digestMismatch(expected: Expected, actual: string): AirlockError {
  return new AirlockError('IMAGE_INVALID', `${expected.what}: blob ${expected.digest} does not match its digest (content hashes to ${actual})`);
}

/** Passes bytes through while hashing and counting them. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private result: string | undefined;
  protected seen = 0;

  constructor(private readonly onBytes?: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    this.hash.update(chunk);
    this.onBytes?.(chunk.length);
    callback(null, chunk);
  }

  get size(): number {
    return this.seen;
  }

  /** The digest of everything that passed; only meaningful once the stream has ended. */
  digest(): string {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}

/** Fails the stream as soon as more bytes than expected arrive, and at the end on a short or wrong blob. */
export class VerifyingStream extends HashingStream {
  constructor(
    private readonly expected: Expected,
    onBytes?: (bytes: number) => void,
  ) {
    super(onBytes);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.seen + chunk.length > this.expected.size) {
      callback(sizeMismatch(this.expected, this.seen + chunk.length));
      return;
    }
    super._transform(chunk, encoding, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.expected.size) {
      callback(sizeMismatch(this.expected, this.seen));
      return;
    }
    const actual = this.digest();
    callback(actual === this.expected.digest ? null : digestMismatch(this.expected, actual));
  }
}

/** Checks bytes already in memory (manifests, configs) against a descriptor. */
export function verifyBytes(data: Buffer, expected: Expected): void {
  if (data.length !== expected.size) throw sizeMismatch(expected, data.length);
  const actual = sha256Digest(data);
  if (actual !== expected.digest) throw digestMismatch(expected, actual);
}

/** `source` read through a verifier: a failure or an early destroy on either side reaches the other. */
export function verifiedStream(source: Readable, expected: Expected, onBytes?: (bytes: number) => void): Readable {
  // The callback is required by this form of pipeline; the error itself reaches whoever reads the result.
  return pipeline(source, new VerifyingStream(expected, onBytes), () => {});
}

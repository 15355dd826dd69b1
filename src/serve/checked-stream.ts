/**
 * A blob's bytes checked against its digest on their way to a client, with the last chunk held
 * back until the whole blob has hashed right: a blob whose bytes changed on the media (rot, a
 * swapped volume, an edited file) is never delivered whole, the connection is cut short of it.
 */
import type { TransformCallback } from 'node:stream';
import { VerifyingStream, type Expected } from '../oci/digest.js';

export class HoldBackVerifyingStream extends VerifyingStream {
  private held: Buffer | undefined;

  constructor(expected: Expected) {
    super(expected);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (error, data?: Buffer) => {
      if (error) {
        callback(error);
        return;
      }
      const previous = this.held;
      this.held = data;
      callback(null, previous);
    });
  }

  override _flush(callback: TransformCallback): void {
    super._flush((error) => {
      if (error) {
        callback(error);
        return;
      }
      callback(null, this.held);
    });
  }
}

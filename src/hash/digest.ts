/** SHA-256 of data in memory and of whole files (streamed through the hash pool's inner loop). */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { hashRanges } from './hash-pool.js';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The bytes of `source`, passed on as they are hashed; after the last byte, an error when
 * they do not hash to `expectedHex`. A writer that renames only once the stream ended never
 * puts unverified bytes in place.
 */
export function verifiedStream(source: AsyncIterable<Buffer>, expectedHex: string, mismatch: (actualHex: string) => Error): Readable {
  return Readable.from(
    (async function* () {
      const hash = createHash('sha256');
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
      const actual = hash.digest('hex');
      if (actual !== expectedHex) throw mismatch(actual);
    })(),
  );
}

/** sha256 of a file hashed in this thread: for a few files, where starting the hash pool costs more. */
export async function sha256Stream(source: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source) hash.update(chunk);
  return hash.digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const { size } = await stat(file);
  const [hex] = await hashRanges([{ source: file, start: 0, length: size }]);
  return hex!;
}

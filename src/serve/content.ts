/**
 * The bytes `airlock serve` serves: the OCI image layout inside a verified bundle (read from its
 * byte ranges, across media volumes too) or the site's OCI layout directory. Both are blob
 * sources in the sense of the push code (whole blobs, index.json), plus byte ranges of a blob.
 * Nothing here trusts the bytes: the handlers check every blob against its digest as it streams.
 */
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { BLOBS_DIR } from '../bundle/format.js';
import type { BundleReader } from '../bundle/reader.js';
import type { OciLayout } from '../images/layout.js';
import { bundleBlobSource, type BlobSource } from '../images/push/push.js';
import { digestHex } from '../oci/digest.js';

/** Bytes `start` to `end` of a blob, both inclusive (as HTTP ranges and node:fs count them). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ServedContent extends BlobSource {
  /** What messages call it: the bundle file, media directory or layout directory. */
  readonly name: string;
  /** The whole blob, or one range of it. */
  open(digest: string, range?: ByteRange): Readable;
  close(): Promise<void>;
}

/**
 * Bytes read at a time for a client. Each stream holds a few chunks (read ahead, held back for
 * the digest check, in the socket's buffer): 256 KiB keeps that near 1 MiB per client.
 */
const SERVE_CHUNK = 256 * 1024;

export function bundleContent(reader: BundleReader): ServedContent {
  const blobs = bundleBlobSource(reader);
  return {
    ...blobs,
    name: reader.file,
    open: (digest, range) => reader.createReadStream(`${BLOBS_DIR}${digestHex(digest)}`, range, SERVE_CHUNK),
    close: () => reader.close(),
  };
}

/** The site's own image store: an OCI layout directory that `airlock install` filled. */
export function layoutContent(layout: OciLayout): ServedContent {
  return {
    name: layout.dir,
    open: (digest, range) => Readable.from(blobChunks(layout, digest, range), { objectMode: false, highWaterMark: SERVE_CHUNK }),
    size: (digest) => {
      try {
        const stat = statSync(layout.blobPath(digest));
        if (stat.isFile()) return stat.size;
      } catch {
        // absent: reported below like any other missing blob
      }
      throw new AirlockError('IMAGE_INVALID', `${layout.dir}: blob ${digest} is missing`);
    },
    readJson: async (path) => {
      const file = join(layout.dir, path);
      try {
        return JSON.parse(await readFile(file, 'utf8')) as unknown;
      } catch {
        throw new AirlockError('IMAGE_INVALID', `${file}: missing or not valid JSON`);
      }
    },
    close: async () => {},
  };
}

/** A blob file's bytes; a file that cannot be read is an error naming the layout and the blob. */
async function* blobChunks(layout: OciLayout, digest: string, range: ByteRange | undefined): AsyncGenerator<Buffer> {
  try {
    yield* createReadStream(layout.blobPath(digest), { highWaterMark: SERVE_CHUNK, ...(range ?? {}) }) as AsyncIterable<Buffer>;
  } catch (cause) {
    if (isAirlockError(cause)) throw cause;
    throw new AirlockError('IMAGE_INVALID', `${layout.dir}: blob ${digest} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

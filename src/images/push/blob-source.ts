/**
 * What pushing reads from: blobs by digest and the layout's index.json. The installer backs it
 * with the bundle (bundleBlobSource); the push code knows nothing of tar files.
 */
import { Readable } from 'node:stream';
import type { BundleReader } from '../../bundle/reader.js';
import { BLOBS_DIR } from '../../bundle/format.js';
import { AirlockError } from '../../base/errors.js';
import { digestHex } from '../../oci/digest.js';

export interface BlobSource {
  /** The blob's bytes (checked against the digest by the caller while they stream). */
  open(digest: string): Readable;
  /** The blob's size in bytes; throws when the source lacks it. */
  size(digest: string): number;
  /** A small JSON file of the layout, e.g. `index.json`. */
  readJson(path: string): Promise<unknown>;
}

/** A blob up to this size is read in one call from the bundle's open file: an attached signature or a config costs no open() of its own. */
const SMALL_BLOB_BYTES = 64 * 1024;

export function bundleBlobSource(reader: BundleReader): BlobSource {
  return {
    open: (digest) => {
      const path = `${BLOBS_DIR}${digestHex(digest)}`;
      return reader.entry(path).size <= SMALL_BLOB_BYTES ? Readable.from([reader.readFileSync(path)], { objectMode: false }) : reader.createReadStream(path);
    },
    size: (digest) => reader.entry(`${BLOBS_DIR}${digestHex(digest)}`).size,
    readJson: async (path) => layoutJson(await reader.readFile(path), `${reader.file}: ${path}`),
  };
}

/** A small JSON file of a layout (index.json), parsed; IMAGE_INVALID naming `where` when it is not JSON. */
export function layoutJson(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    throw new AirlockError('IMAGE_INVALID', `${where} is not valid JSON`);
  }
}

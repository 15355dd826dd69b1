/**
 * The image blobs of a payload about to be written, read as the push code reads a bundle's:
 * so a build walks the very OCI layout it is writing (index.json and the cached blobs it points at).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AirlockError } from '../base/errors.js';
import { BLOBS_DIR } from '../bundle/format.js';
import type { PayloadFile } from '../bundle/payload.js';
import { layoutJson, type BlobSource } from '../images/push/blob-source.js';
import { digestHex } from '../oci/digest.js';

export function payloadBlobSource(files: readonly PayloadFile[]): BlobSource {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const file = (path: string): PayloadFile => {
    const found = byPath.get(path);
    if (!found) throw new AirlockError('INTERNAL', `the bundle being built has no ${path}`);
    return found;
  };
  const open = (path: string): Readable => {
    const { source, size } = file(path);
    if (source.kind === 'bytes') return Readable.from([source.data]);
    if (source.kind === 'file') return createReadStream(source.path);
    return size === 0 ? Readable.from([]) : createReadStream(source.file, { start: source.start, end: source.start + size - 1 });
  };
  return {
    open: (digest) => open(`${BLOBS_DIR}${digestHex(digest)}`),
    size: (digest) => file(`${BLOBS_DIR}${digestHex(digest)}`).size,
    readJson: async (path) => {
      const chunks: Buffer[] = [];
      for await (const chunk of open(path) as AsyncIterable<Buffer>) chunks.push(chunk);
      return layoutJson(Buffer.concat(chunks), `the bundle being built: ${path}`);
    },
  };
}

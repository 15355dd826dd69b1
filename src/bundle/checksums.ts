/** SHA256SUMS: the signed list of every payload file's digest, in `sha256sum -c` format. */
import { AirlockError } from '../base/errors.js';
import { CHECKSUMS_PATH, comparePaths } from './format.js';
import { isSafeBundlePath } from './safe-path.js';

const LINE = /^([0-9a-f]{64})  (.+)$/;

/** Bytes of the line for `path`, known before its digest is: lets the writer lay out the bundle up front. */
export function checksumLineLength(path: string): number {
  return 64 + 2 + Buffer.byteLength(path, 'utf8') + 1;
}

export function formatChecksums(digests: ReadonlyMap<string, string>): Buffer {
  const paths = [...digests.keys()].sort(comparePaths);
  return checksumLines(paths.length, (index) => paths[index]!, (index) => digests.get(paths[index]!)!);
}

/**
 * SHA256SUMS from `count` lines already in order, written straight into one buffer: at
 * 200,000 files a string per line and their join cost several times the 20 MB it comes to.
 */
export function checksumLines(count: number, pathAt: (index: number) => string, hexAt: (index: number) => string): Buffer {
  let size = 0;
  for (let index = 0; index < count; index++) size += checksumLineLength(pathAt(index));
  const out = Buffer.alloc(size);
  let at = 0;
  for (let index = 0; index < count; index++) {
    at += out.write(hexAt(index), at, 'latin1');
    at += out.write('  ', at, 'latin1');
    at += out.write(pathAt(index), at, 'utf8');
    out[at++] = 0x0a;
  }
  if (at !== size) throw new AirlockError('INTERNAL', `${CHECKSUMS_PATH}: a line is not '<sha256 hex>  <path>'`);
  return out;
}

/** Parses SHA256SUMS strictly: sorted, unique, safe paths, nothing else. */
export function parseChecksums(data: Buffer): Map<string, string> {
  const text = data.toString('utf8');
  if (!text.endsWith('\n')) throw new AirlockError('BUNDLE_FORMAT', `${CHECKSUMS_PATH}: does not end with a newline`);
  const digests = new Map<string, string>();
  let previous: string | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const match = LINE.exec(line);
      const where = `${CHECKSUMS_PATH} line ${index + 1}`;
      if (!match) throw new AirlockError('BUNDLE_FORMAT', `${where}: not '<sha256 hex>  <path>'`);
      const [, hex, path] = match as unknown as [string, string, string];
      if (!isSafeBundlePath(path)) throw new AirlockError('UNSAFE_PATH', `${where}: unsafe path ${JSON.stringify(path)}`);
      if (digests.has(path)) throw new AirlockError('FILE_DUPLICATE', `${where}: ${path} is listed twice`);
      if (previous !== undefined && comparePaths(previous, path) > 0) {
        throw new AirlockError('BUNDLE_FORMAT', `${where}: ${path} is out of order`);
      }
      digests.set(path, hex);
      previous = path;
    });
  return digests;
}

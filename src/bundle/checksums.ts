/** SHA256SUMS: the signed list of every payload file's digest, in `sha256sum -c` format. */
import { AirlockError } from '../base/errors.js';
import { CHECKSUMS_PATH, comparePaths } from './format.js';
import { isSafeBundlePath } from './safe-path.js';

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

const HEX_DIGITS = 64;
const NEWLINE = 0x0a;
const SPACE = 0x20;
/** What `.` in a line pattern would not match: the path may hold none of them. */
const LINE_BREAKS = /[\r\u2028\u2029]/;

/**
 * Parses SHA256SUMS strictly: sorted, unique, safe paths, nothing else. Each path and digest
 * is decoded from the bytes on its own, so no copy of the whole text, and no string per
 * line, stays alive beside the map (20 MB and 200,000 lines at scale). `known` gives an equal
 * string already held (the bundle's entry path), kept instead of a second copy of each path.
 */
export function parseChecksums(data: Buffer, known?: (path: string) => string | undefined): Map<string, string> {
  if (data.length === 0 || data[data.length - 1] !== NEWLINE) throw new AirlockError('BUNDLE_FORMAT', `${CHECKSUMS_PATH}: does not end with a newline`);
  const digests = new Map<string, string>();
  let previous: string | undefined;
  for (let start = 0, line = 1; start < data.length; line++) {
    const end = data.indexOf(NEWLINE, start);
    const where = `${CHECKSUMS_PATH} line ${line}`;
    const path = end - start > HEX_DIGITS + 2 && isHex(data, start) && data[start + HEX_DIGITS] === SPACE && data[start + HEX_DIGITS + 1] === SPACE ? data.toString('utf8', start + HEX_DIGITS + 2, end) : '';
    if (path === '' || LINE_BREAKS.test(path)) throw new AirlockError('BUNDLE_FORMAT', `${where}: not '<sha256 hex>  <path>'`);
    if (!isSafeBundlePath(path)) throw new AirlockError('UNSAFE_PATH', `${where}: unsafe path ${JSON.stringify(path)}`);
    if (digests.has(path)) throw new AirlockError('FILE_DUPLICATE', `${where}: ${path} is listed twice`);
    if (previous !== undefined && comparePaths(previous, path) > 0) {
      throw new AirlockError('BUNDLE_FORMAT', `${where}: ${path} is out of order`);
    }
    digests.set(known?.(path) ?? path, data.toString('latin1', start, start + HEX_DIGITS));
    previous = path;
    start = end + 1;
  }
  return digests;
}

/** Lower-case hex digits only, as sha256sum writes them. */
function isHex(data: Buffer, start: number): boolean {
  for (let index = start; index < start + HEX_DIGITS; index++) {
    const byte = data[index]!;
    if (!((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66))) return false;
  }
  return true;
}

/**
 * The one rule for paths inside a bundle, applied when writing and when reading:
 * relative, '/'-separated, no empty, '.' or '..' components, no backslash or control
 * characters. Such a path cannot escape the directory it is extracted into, and
 * prints the same in SHA256SUMS (sha256sum escapes '\' and newlines, we never need to).
 */
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

export function isSafeBundlePath(path: string): boolean {
  if (path.length === 0 || Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return false;
  if (path.startsWith('/') || FORBIDDEN.test(path)) return false;
  // Lone surrogates do not survive UTF-8: the path would not read back as written.
  if (Buffer.from(path, 'utf8').toString('utf8') !== path) return false;
  // 255 bytes is the longest name a Linux file system holds: a longer one could not be extracted.
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && Buffer.byteLength(part, 'utf8') <= MAX_NAME_BYTES);
}

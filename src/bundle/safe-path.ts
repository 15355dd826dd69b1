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

/** Printable ASCII but the backslash: one byte a character, no surrogates, so the rule needs no encoding. */
const PLAIN = /^[\x20-\x5b\x5d-\x7e]+$/;
/** An empty, '.' or '..' component. */
const BAD_COMPONENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

export function isSafeBundlePath(path: string): boolean {
  // The common path, checked without encoding or splitting it: the same rule, for bundles of 200,000 entries.
  if (PLAIN.test(path)) {
    return (
      path.length <= MAX_PATH_BYTES &&
      !path.startsWith('/') &&
      !BAD_COMPONENT.test(path) &&
      (path.length <= MAX_NAME_BYTES || path.split('/').every((part) => part.length <= MAX_NAME_BYTES))
    );
  }
  if (path.length === 0 || Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return false;
  if (path.startsWith('/') || FORBIDDEN.test(path)) return false;
  // Lone surrogates do not survive UTF-8: the path would not read back as written.
  if (Buffer.from(path, 'utf8').toString('utf8') !== path) return false;
  // 255 bytes is the longest name a Linux file system holds: a longer one could not be extracted.
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && Buffer.byteLength(part, 'utf8') <= MAX_NAME_BYTES);
}

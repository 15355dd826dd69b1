/**
 * Every tar header records the release's `created` time as its mtime. The scanner
 * (src/bundle/scan.ts) has already held each header to the form the writer gives it for its
 * own mtime; with this, each header is exactly the one the writer produces for this bundle,
 * and no header byte can change without failing verification.
 */
import { fileModeFor, MANIFEST_PATH } from '../bundle/format.js';
import type { BundleEntry } from '../bundle/scan.js';
import { encodeFileHeader } from '../bundle/tar-header.js';
import type { Problem } from '../base/problem.js';

export function checkHeaderTimes(entries: readonly BundleEntry[], created: string, bundle: string): Problem[] {
  const time = new Date(created);
  const header = (entry: BundleEntry, mtime: Date) => encodeFileHeader(entry.path, entry.size, fileModeFor(entry.path), mtime);
  // The same time encodes the same header; only a different one is encoded to see whether its whole seconds differ.
  const wrong = entries.filter((entry) => entry.mtime.getTime() !== time.getTime() && !header(entry, entry.mtime).equals(header(entry, time)));
  const [first] = wrong;
  if (first === undefined) return [];
  const others = wrong.length > 1 ? ` (and ${wrong.length - 1} other entr${wrong.length === 2 ? 'y' : 'ies'})` : '';
  return [
    {
      code: 'BUNDLE_FORMAT',
      message: `${bundle}: ${first.path} (entry at byte ${first.headerOffset}): its tar header records mtime ${first.mtime.toISOString()}, not the release's created time ${created} from ${MANIFEST_PATH}${others}`,
      path: first.path,
    },
  ];
}

/**
 * Shared state of one packing pass: the listing it reads, and the payload files, input
 * files and problems it gathers. Every problem is kept so the engineer sees all at once.
 */
import { comparePaths, FILE_MODE } from '../bundle/format.js';
import type { PayloadFile } from '../bundle/payload.js';
import { displaySource } from '../manifest/release-paths.js';
import type { ManifestProblem } from '../manifest/release-problems.js';
import { entriesBelow, type SourceEntry, type SourceListing } from './source-listing.js';

const LINK_REASON = 'sources must be real files and directories, so a bundle never depends on where a link points';

/** Why an entry found while walking a source cannot go into a bundle, or undefined when it can. */
export function entryProblem(path: string, entry: SourceEntry): string | undefined {
  switch (entry.kind) {
    case 'file':
    case 'directory':
      return undefined;
    case 'symlink':
      return `${displaySource(path)} is a symbolic link; ${LINK_REASON}`;
    case 'bad-name':
      return `${displaySource(path)}: file name is not valid UTF-8`;
    case 'other':
      return `${displaySource(path)} is not a regular file or directory`;
  }
}

export class PackContext {
  readonly problems: ManifestProblem[] = [];
  private readonly files = new Map<string, PayloadFile>();
  /** The root and its slash once, so each source path is one concatenation (200,000 of them at scale). */
  private readonly rootSlash: string;
  /** All the created time needs of the source files read: a list of them is 200,000 records at scale. */
  private newestMtimeMs = -Infinity;

  constructor(
    private readonly listing: SourceListing,
    root: string,
  ) {
    this.rootSlash = root.endsWith('/') ? root : `${root}/`;
  }

  problem(path: ReadonlyArray<PropertyKey>, message: string): void {
    this.problems.push({ path, message });
  }

  /**
   * The file or directory at `path`, after checking every directory on the way to it;
   * undefined (with a problem recorded at `where`) when it is missing, linked or special.
   */
  source(path: string, where: ReadonlyArray<PropertyKey>, noun: 'file' | 'directory'): SourceEntry | undefined {
    const parts = path.split('/');
    for (let depth = 1; depth <= parts.length; depth++) {
      const prefix = parts.slice(0, depth).join('/');
      const entry = this.listing.get(prefix);
      const last = depth === parts.length;
      const problem = !entry
        ? `no such ${noun} ${displaySource(path)}`
        : (entryProblem(prefix, entry) ?? (!last && entry.kind !== 'directory' ? `${displaySource(prefix)} is not a directory` : undefined));
      if (problem) {
        this.problem(where, problem);
        return undefined;
      }
      if (last) return entry;
    }
    return undefined;
  }

  /** Entries below a source directory, in byte-wise path order. */
  below(dir: string, depth: 'all' | 'children'): Generator<[string, SourceEntry]> {
    return entriesBelow(this.listing, dir, depth);
  }

  /** Adds a source file to the payload under `bundlePath` (once, however often it is named). */
  addFile(bundlePath: string, sourcePath: string, entry: SourceEntry, mode = FILE_MODE): void {
    // Listed paths are clean and relative, the root absolute: no normalising needed (path.join shows in a profile at 20,000 files).
    this.files.set(bundlePath, { path: bundlePath, size: entry.size, mode, source: { kind: 'file', path: this.rootSlash + sourcePath } });
    this.newestMtimeMs = Math.max(this.newestMtimeMs, entry.mtimeMs);
  }

  payload(): PayloadFile[] {
    return [...this.files.values()].sort((a, b) => comparePaths(a.path, b.path));
  }

  /** The newest mtime among the source files added, or -Infinity when none was. */
  newestInputMs(): number {
    return this.newestMtimeMs;
  }
}

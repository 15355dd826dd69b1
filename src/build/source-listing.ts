/**
 * What the files a release manifest names look like on disk, taken once with lstat
 * (never following links) so packing decides everything over plain data.
 *
 * Synchronous on purpose: a release of 200,000 small files is 200,000 lstat calls, and
 * each one through the thread pool and a promise costs several times the call itself.
 * Nothing else runs while the build lists its sources.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../base/errors.js';
import { comparePaths } from '../bundle/format.js';

export type SourceKind = 'file' | 'directory' | 'symlink' | 'other' | 'bad-name';

export interface SourceEntry {
  kind: SourceKind;
  size: number;
  mtimeMs: number;
}

/** Keyed by '/'-separated paths relative to the manifest's directory; paths that do not exist are absent. */
export type SourceListing = ReadonlyMap<string, SourceEntry>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function statEntry(file: string): SourceEntry | undefined {
  try {
    const stats = lstatSync(file);
    const kind: SourceKind = stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : 'other';
    return { kind, size: stats.size, mtimeMs: stats.mtimeMs };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot read (${code ?? 'error'})`, { cause });
  }
}

/**
 * Lists each path, every directory on the way to it (so a linked parent is seen), and
 * everything below it when it is a directory.
 */
export function listSources(root: string, paths: Iterable<string>): SourceListing {
  const listing = new Map<string, SourceEntry>();
  const walked = new Set<string>();

  function walk(dir: string): void {
    if (walked.has(dir)) return;
    walked.add(dir);
    const names = readdirSync(join(root, dir), { encoding: 'buffer' });
    for (const raw of names) {
      let name: string;
      try {
        name = utf8.decode(raw);
      } catch {
        // Such a name cannot be written to a bundle; keep it so packing can name the culprit.
        listing.set(`${dir}/${raw.toString('utf8')}`, { kind: 'bad-name', size: 0, mtimeMs: 0 });
        continue;
      }
      const path = `${dir}/${name}`;
      const entry = statEntry(join(root, path));
      if (!entry) continue;
      listing.set(path, entry);
      if (entry.kind === 'directory') walk(path);
    }
  }

  for (const path of new Set(paths)) {
    const parts = path.split('/');
    for (let depth = 1; depth <= parts.length; depth++) {
      const prefix = parts.slice(0, depth).join('/');
      const entry = listing.get(prefix) ?? statEntry(join(root, prefix));
      if (!entry) break;
      listing.set(prefix, entry);
      if (entry.kind !== 'directory') break;
      if (depth === parts.length) walk(prefix);
    }
  }
  return listing;
}

/**
 * Entries below `dir` (all depths, or direct children only), in byte-wise path order. Only the
 * paths are gathered and sorted; each pair is made as it is taken (200,000 of them at scale).
 */
export function* entriesBelow(listing: SourceListing, dir: string, depth: 'all' | 'children'): Generator<[string, SourceEntry]> {
  const prefix = `${dir}/`;
  const paths: string[] = [];
  for (const path of listing.keys()) {
    if (path.startsWith(prefix) && (depth === 'all' || !path.includes('/', prefix.length))) paths.push(path);
  }
  for (const path of paths.sort(comparePaths)) yield [path, listing.get(path)!];
}

/**
 * Which config files an install adds, changes, re-modes, removes or leaves alone, with a
 * unified diff for each change. Pure: the caller supplies what the release wants and what
 * is on disk. Diffs are built only from masked text (templates rendered with <<name>> for
 * every variable, files found on disk with site variable values masked), so no secret can
 * appear in a printed plan; a change that lies only in variable values is named as such.
 */
import { createTwoFilesPatch } from 'diff';
import { comparePaths } from '../bundle/format.js';

export interface DesiredConfig {
  dest: string;
  /** Path of the source inside the bundle. */
  path: string;
  mode: number;
  template: boolean;
  /** sha256 of the content to write (rendered, for templates). */
  sha256: string;
  /**
   * Printable form: masked rendering, or the text; undefined for binary content or a file over
   * the diff limit. Made when a diff needs it: a plan of 20,000 files shows ten of them.
   */
  display: () => string | undefined;
}

export interface ExistingConfig {
  sha256: string;
  mode: number;
  /** Printable form of what is on disk, made when a diff needs it; undefined for binary content or a file over the diff limit. */
  display: () => string | undefined;
  /** managed: as airlock wrote it; edited: airlock wrote it, someone changed it since; unmanaged: not airlock's. */
  origin: 'managed' | 'edited' | 'unmanaged';
}

/** Larger files get no diff in the plan: a diff of them would not be read, and would cost their size in memory. */
export const DIFF_LIMIT_BYTES = 1024 * 1024;
const NO_DIFF = 'binary or over 1 MiB: no diff shown';

export type ConfigAction = 'add' | 'change' | 'mode' | 'unchanged' | 'remove';

export interface ConfigChange {
  dest: string;
  action: ConfigAction;
  /** The desired file (absent for remove). */
  desired?: DesiredConfig;
  previousMode?: number;
  notes: string[];
  diff?: string;
}

export function unifiedDiff(dest: string, before: string, after: string): string | undefined {
  if (before === after) return undefined;
  const patch = createTwoFilesPatch(`a/${dest}`, `b/${dest}`, before, after, '', '', { context: 3 });
  // Drop the "=====" banner and the tab diff puts after each file name.
  return patch
    .split('\n')
    .slice(1)
    .map((line) => (line.startsWith('--- ') || line.startsWith('+++ ') ? line.replace(/\t$/, '') : line))
    .join('\n')
    .trimEnd();
}

type Details = Pick<ConfigChange, 'notes' | 'diff'>;

/**
 * A file's notes and diff need its text (and the file's on the site): made only when something
 * reads them (the few in the plan a person sees, all of them for --json), not 20,000 times for
 * a plan that shows ten. Read before anything is written: they describe the site as it is now.
 */
function withLazyDetails(change: Omit<ConfigChange, 'notes' | 'diff'>, make: () => Details): ConfigChange {
  let made: Details | undefined;
  const details = () => (made ??= make());
  return Object.defineProperties(change, {
    notes: { enumerable: true, get: () => details().notes },
    diff: { enumerable: true, get: () => details().diff },
  }) as ConfigChange;
}

function describeAdd(desired: DesiredConfig): Details {
  const display = desired.display();
  return display === undefined ? { notes: [NO_DIFF] } : { notes: [], diff: unifiedDiff(desired.dest, '', display) };
}

function describeChange(desired: DesiredConfig, existing: ExistingConfig): Details {
  const notes: string[] = [];
  if (existing.origin === 'edited') notes.push('edited on disk since airlock installed it: the edit will be replaced (and kept for rollback)');
  if (existing.origin === 'unmanaged') notes.push('replaces a file airlock did not install (kept for rollback)');
  const after = desired.display();
  const before = after === undefined ? undefined : existing.display();
  if (after === undefined || before === undefined) {
    notes.push(NO_DIFF);
    return { notes };
  }
  const diff = unifiedDiff(desired.dest, before, after);
  if (diff === undefined) notes.push('only site variable values change (values are not shown)');
  return { notes, diff };
}

export function planConfigChanges(
  desired: readonly DesiredConfig[],
  existing: ReadonlyMap<string, ExistingConfig>,
  managed: ReadonlySet<string>,
): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const wanted = new Set<string>();
  for (const file of desired) {
    wanted.add(file.dest);
    const current = existing.get(file.dest);
    if (current === undefined) {
      changes.push(withLazyDetails({ dest: file.dest, action: 'add', desired: file }, () => describeAdd(file)));
    } else if (current.sha256 !== file.sha256) {
      changes.push(withLazyDetails({ dest: file.dest, action: 'change', desired: file, previousMode: current.mode }, () => describeChange(file, current)));
    } else if (current.mode !== file.mode) {
      changes.push({ dest: file.dest, action: 'mode', desired: file, previousMode: current.mode, notes: [] });
    } else {
      changes.push({ dest: file.dest, action: 'unchanged', desired: file, notes: [] });
    }
  }
  // Only files the previous release installed are removed; anything else in the config root is not airlock's.
  for (const dest of managed) {
    if (wanted.has(dest)) continue;
    const current = existing.get(dest);
    if (current === undefined) continue;
    const notes = ['no longer part of the release (kept for rollback)'];
    if (current.origin === 'edited') notes.push('edited on disk since airlock installed it');
    changes.push({ dest, action: 'remove', previousMode: current.mode, notes });
  }
  return changes.sort((a, b) => comparePaths(a.dest, b.dest));
}

export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Counts of files per directory, for plans too long to list file by file. The directory tree is
 * cut to a screenful: the top directories are always shown, and the directories holding the most
 * changes are opened first, as long as their subdirectories still fit in the line budget. A chain
 * of directories with nothing but one subdirectory is one line (`www/static/css/`). Pure.
 */
import { comparePaths } from '../bundle/format.js';

export interface DirectoryEntry<K extends string> {
  /** A path relative to the root the plan is about, `/`-separated. */
  path: string;
  kind: K;
}

export interface DirectoryView<K extends string> {
  /** The mark of each kind, in the order counts are shown (`+` added, `~` changed, ...). */
  marks: Readonly<Record<K, string>>;
  /** A kind that is no change (unchanged files): counted, but directories with changes open first. */
  quiet?: K;
  /** Lines at most (a directory whose subdirectories would not fit stays one line). */
  maxLines: number;
}

interface Node<K extends string> {
  /** The directory's path with a trailing `/`, or '' for the root. */
  path: string;
  /** Files in this directory and all below it, per kind. */
  counts: Map<K, number>;
  /** Files directly in this directory, per kind. */
  own: Map<K, number>;
  children: Map<string, Node<K>>;
}

function newNode<K extends string>(path: string): Node<K> {
  return { path, counts: new Map(), own: new Map(), children: new Map() };
}

function bump<K extends string>(counts: Map<K, number>, kind: K): void {
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
}

function buildTree<K extends string>(entries: readonly DirectoryEntry<K>[]): Node<K> {
  const root = newNode<K>('');
  for (const entry of entries) {
    const segments = entry.path.split('/').slice(0, -1);
    let node = root;
    bump(node.counts, entry.kind);
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode<K>(`${node.path}${segment}/`);
        node.children.set(segment, child);
      }
      node = child;
      bump(node.counts, entry.kind);
    }
    bump(node.own, entry.kind);
  }
  return root;
}

/** A directory holding only one subdirectory says nothing of its own: it becomes that subdirectory's line. */
function collapsed<K extends string>(node: Node<K>): Node<K> {
  let current = node;
  while (current.own.size === 0 && current.children.size === 1) current = [...current.children.values()][0]!;
  return current;
}

function childrenOf<K extends string>(node: Node<K>): Node<K>[] {
  return [...node.children.values()].map(collapsed).sort((a, b) => comparePaths(a.path, b.path));
}

function sum<K extends string>(counts: Map<K, number>, skip?: K): number {
  let total = 0;
  for (const [kind, count] of counts) if (kind !== skip) total += count;
  return total;
}

/** Lines an opened directory adds: one per subdirectory, and one for its own files. */
function openingCost<K extends string>(node: Node<K>): number {
  return node.children.size + (node.own.size > 0 ? 1 : 0);
}

function countText<K extends string>(counts: Map<K, number>, view: DirectoryView<K>): string {
  const total = sum(counts);
  const parts = (Object.keys(view.marks) as K[]).filter((kind) => (counts.get(kind) ?? 0) > 0).map((kind) => `${view.marks[kind]}${counts.get(kind)}`);
  return `${String(total).padStart(6)} file${total === 1 ? ' ' : 's'}  ${parts.join(' ')}`;
}

/** The tree of `entries` as at most `view.maxLines` lines (a root with more top directories than that shows them all). */
export function directoryLines<K extends string>(entries: readonly DirectoryEntry<K>[], view: DirectoryView<K>, indent = '  '): string[] {
  const root = collapsed(buildTree(entries));
  const opened = new Set<Node<K>>([root]);
  let lines = openingCost(root);
  // Open the busiest directory that still fits, again and again; a directory that does not fit stays shut.
  const shut = new Set<Node<K>>();
  for (;;) {
    const candidates = [...opened].flatMap(childrenOf).filter((node) => !opened.has(node) && !shut.has(node) && node.children.size > 0);
    if (candidates.length === 0) break;
    const busiest = candidates.reduce((best, node) => {
      const order = sum(node.counts, view.quiet) - sum(best.counts, view.quiet) || sum(node.counts) - sum(best.counts);
      return order > 0 ? node : best;
    });
    if (lines + openingCost(busiest) <= view.maxLines) {
      opened.add(busiest);
      lines += openingCost(busiest);
    } else shut.add(busiest);
  }

  const rows: Array<{ name: string; depth: number; counts: Map<K, number> }> = [];
  const walk = (node: Node<K>, depth: number) => {
    for (const child of childrenOf(node)) {
      const more = opened.has(child) || child.children.size === 0 ? '' : ` (${child.children.size} subdirector${child.children.size === 1 ? 'y' : 'ies'})`;
      rows.push({ name: `${child.path}${more}`, depth, counts: child.counts });
      if (opened.has(child)) walk(child, depth + 1);
    }
    // Files beside the subdirectories get a line of their own once the directory is opened.
    if (node.own.size > 0 && node.children.size > 0) rows.push({ name: node.path === '' ? '(top level)' : `${node.path} (its own files)`, depth, counts: node.own });
  };
  if (root.children.size === 0) rows.push({ name: root.path === '' ? '(top level)' : root.path, depth: 0, counts: root.own });
  else walk(root, 0);
  const width = Math.min(56, Math.max(...rows.map((row) => row.depth * 2 + row.name.length)));
  return rows.map((row) => `${indent}${`${'  '.repeat(row.depth)}${row.name}`.padEnd(width)}  ${countText(row.counts, view)}`);
}

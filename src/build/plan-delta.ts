/**
 * The pure core of a delta build: from the image graph of the release and what each base holds,
 * the `delta` record of airlock.json. A layer is left out only when every base holds it with the
 * same size (a fleet of sites: only what all of them hold); configs and manifests never are.
 * Sorted throughout, so the same release and bases give the same bytes.
 */
import { comparePaths } from '../bundle/format.js';
import type { LayoutGraph } from '../images/layout-graph.js';
import type { DeltaBase, DeltaRecord } from '../manifest/delta.js';
import type { BaseHoldings } from './delta-bases.js';

export function planDelta(graph: Pick<LayoutGraph, 'omittable'>, bases: readonly BaseHoldings[]): DeltaRecord {
  const omitted = [...graph.omittable.values()]
    .filter((layer) => bases.every(({ held }) => held.get(layer.digest) === layer.size))
    .map((layer) => ({ digest: layer.digest, size: layer.size }))
    .sort((a, b) => comparePaths(a.digest, b.digest));
  return { bases: uniqueBases(bases.map(({ base }) => base)), omitted };
}

function baseKey(base: DeltaBase): string {
  return JSON.stringify([base.kind, base.site, base.release?.name, base.release?.version, base.release?.digest]);
}

function uniqueBases(bases: readonly DeltaBase[]): DeltaBase[] {
  const byKey = new Map(bases.map((base) => [baseKey(base), base]));
  return [...byKey.keys()].sort(comparePaths).map((key) => byKey.get(key)!);
}

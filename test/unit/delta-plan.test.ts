/**
 * The pure core of delta releases, over many random image graphs (images sharing layers, indexes of
 * several platforms, artifacts, a blob that is both a config and a layer) and random bases: what
 * planDelta leaves out is exactly the layers every base holds with their size, whatever order the
 * bases come in; the omitted list it makes always fits the graph; and every way of breaking that
 * list (a blob dropped, a config added, a size changed, the order changed) is named.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BaseHoldings } from '../../src/build/delta-bases.js';
import { planDelta } from '../../src/build/plan-delta.js';
import { omittedListProblems, readLayoutGraph, type LayoutGraph } from '../../src/images/layout-graph.js';
import type { BlobSource } from '../../src/images/push/blob-source.js';
import { prng } from '../../bench/synthetic-release.js';

const RUNS = 150;

interface Made {
  source: BlobSource;
  /** Every config and layer, with its role(s). */
  layers: Map<string, number>;
  configs: Set<string>;
}

/** A random OCI layout in memory, and the roles of its blobs as the generator made them. */
function randomLayout(rand: () => number, run: number): Made {
  const blobs = new Map<string, Buffer>();
  const put = (data: Buffer, mediaType: string) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  };
  const layers = new Map<string, number>();
  const configs = new Set<string>();
  const pool = Array.from({ length: 2 + Math.floor(rand() * 6) }, (_, i) => put(Buffer.from(`run ${run} layer ${i} `.repeat(1 + Math.floor(rand() * 9))), 'application/vnd.oci.image.layer.v1.tar+gzip'));
  const pick = () => pool[Math.floor(rand() * pool.length)]!;
  const manifest = (i: number) => {
    const config = rand() < 0.1 ? { ...pick(), mediaType: 'application/vnd.oci.image.config.v1+json' } : put(Buffer.from(`{"run":${run},"image":${i},"n":${rand()}}`), 'application/vnd.oci.image.config.v1+json');
    configs.add(config.digest);
    const own = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, pick))];
    for (const layer of own) layers.set(layer.digest, layer.size);
    return put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: own })), 'application/vnd.oci.image.manifest.v1+json');
  };
  const entries = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, i) => {
    if (rand() < 0.7) return manifest(i);
    const artifact = put(Buffer.from(`artifact ${run} ${i}`), 'application/vnd.example.sbom');
    return put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [manifest(i * 10), manifest(i * 10 + 1), artifact] })), 'application/vnd.oci.image.index.v1+json');
  });
  const index = { schemaVersion: 2, manifests: entries.map((entry, i) => ({ ...entry, annotations: { 'org.opencontainers.image.ref.name': `image-${i}` } })) };
  const source: BlobSource = {
    open: (digest) => Readable.from([blobs.get(digest)!]),
    size: (digest) => blobs.get(digest)!.length,
    readJson: async () => index,
  };
  return { source, layers, configs };
}

function randomBases(rand: () => number, made: Made): BaseHoldings[] {
  const known = [...made.layers, ...[...made.configs].map((digest) => [digest, 0] as [string, number])];
  return Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => ({
    base: { kind: 'receipt' as const, site: `site-${i}`, release: null },
    held: new Map(known.filter(() => rand() < 0.7).map(([digest, size]) => [digest, rand() < 0.1 ? size + 1 : size])),
  }));
}

describe('delta planning over random graphs and bases', () => {
  it('leaves out exactly the layers (never a config or manifest) every base holds with their size, in any order of bases', async () => {
    for (let run = 0; run < RUNS; run++) {
      const rand = prng(run + 1);
      const made = randomLayout(rand, run);
      const graph = await readLayoutGraph(made.source);
      const bases = randomBases(rand, made);
      const plan = planDelta(graph, bases);
      const expected = [...made.layers]
        .filter(([digest, size]) => !made.configs.has(digest) && bases.every(({ held }) => held.get(digest) === size))
        .map(([digest, size]) => ({ digest, size }))
        .sort((a, b) => (a.digest < b.digest ? -1 : 1));
      expect(plan.omitted, `run ${run}`).toEqual(expected);
      expect(plan.bases.map((base) => base.site)).toEqual(bases.map((base) => base.base.site).sort());
      expect(planDelta(graph, [...bases].reverse())).toEqual(plan);
    }
  });

  it('makes omitted lists that fit the graph, and names each way of breaking one', async () => {
    let broken = 0;
    for (let run = 0; run < RUNS; run++) {
      const rand = prng(1000 + run);
      const made = randomLayout(rand, run);
      const graph: LayoutGraph = await readLayoutGraph(made.source);
      const { omitted } = planDelta(graph, randomBases(rand, made));
      const carried = (list: ReadonlyArray<{ digest: string }>) => (digest: string) => !list.some((blob) => blob.digest === digest);
      expect(omittedListProblems(graph, carried(omitted), omitted), `run ${run}`).toEqual([]);
      if (omitted.length === 0) continue;
      broken++;

      const [dropped, ...rest] = omitted;
      const missing = omittedListProblems(graph, carried(omitted), rest);
      expect(missing.map((p) => p.code)).toEqual(['FILE_MISSING']);
      expect(missing[0]!.message).toContain(`blobs/sha256/${dropped!.digest.slice(7)} (needed by image-`);

      const resized = omitted.map((blob, i) => (i === 0 ? { ...blob, size: blob.size + 1 } : blob));
      expect(omittedListProblems(graph, carried(omitted), resized)[0]?.message).toContain(`delta.omitted[0]: ${dropped!.digest} is ${dropped!.size + 1} bytes, but ${dropped!.size}`);

      const config = [...made.configs][0]!;
      const withConfig = [...omitted, { digest: config, size: 1 }].sort((a, b) => (a.digest < b.digest ? -1 : 1));
      expect(omittedListProblems(graph, carried(withConfig), withConfig).some((p) => p.code === 'BUNDLE_FORMAT' && p.message.includes(`${config} is a config`))).toBe(true);

      expect(omittedListProblems(graph, () => true, omitted).every((p) => p.message.includes('is left out, yet the bundle carries it'))).toBe(true);
      if (omitted.length > 1) {
        const swapped = [omitted[1]!, omitted[0]!, ...omitted.slice(2)];
        expect(omittedListProblems(graph, carried(omitted), swapped).map((p) => p.message)).toEqual([expect.stringContaining('is out of order or listed twice')]);
      }
    }
    expect(broken).toBeGreaterThan(RUNS / 3);
  });
});

describe('delta planning with attached artifacts', () => {
  it('never leaves out a blob of an attached artifact, though the base holds it: evidence is judged again from the bundle', async () => {
    const blobs = new Map<string, Buffer>();
    const put = (text: string, mediaType: string) => {
      const data = Buffer.from(text);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      blobs.set(digest, data);
      return { mediaType, digest, size: data.length };
    };
    const layer = put('the image layer', 'application/vnd.oci.image.layer.v1.tar+gzip');
    const image = put(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: put('{"os":"linux"}', 'application/vnd.oci.image.config.v1+json'), layers: [layer] }),
      'application/vnd.oci.image.manifest.v1+json',
    );
    const payload = put('{"critical":{"image":{}}}', 'application/vnd.dev.cosign.simplesigning.v1+json');
    const signature = put(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: put('{}', 'application/vnd.oci.image.config.v1+json'), layers: [payload] }),
      'application/vnd.oci.image.manifest.v1+json',
    );
    const index = {
      schemaVersion: 2,
      manifests: [
        { ...image, annotations: { 'org.opencontainers.image.ref.name': 'shop/app:1.1' } },
        { ...signature, annotations: { 'org.opencontainers.image.ref.name': 'shop/app:sha256-x.sig', 'dev.airlock.attached.to': image.digest } },
      ],
    };
    const source: BlobSource = { open: (digest) => Readable.from([blobs.get(digest)!]), size: (digest) => blobs.get(digest)!.length, readJson: async () => index };
    const held = new Map([...blobs].map(([digest, data]) => [digest, data.length]));
    const delta = planDelta(await readLayoutGraph(source), [{ base: { kind: 'receipt' as const, site: 'site-1', release: null }, held }]);
    expect(delta.omitted.map((blob) => blob.digest)).toEqual([layer.digest]);
  });
});

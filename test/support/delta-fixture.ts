/**
 * What the delta release tests share: the example release with real test images, built as
 *   1.0.0    shop/app1:1.0 and shop/app2:1.0 (both on one base layer)
 *   1.0.0w   shop/app1:1.0 and shop/multi:1.0 (another site's release: the base, and multi's layers)
 *   1.1.0    shop/app1:1.1 (app1 with its top layer changed), shop/app2:1.0 (unchanged),
 *            shop/app3:1.0 (a new repository on the same base) and shop/multi:1.0
 * with full and delta builds through the real CLI, and what a site's image target holds, read
 * back without airlock (index.json and blob files of a layout, a registry's storage tree).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli, type CliResult } from './cli.js';
import { layer, makeTestImages, noise, sha256, type TestImages } from './images.js';
import { makeFixture, walk, type Fixture, type TestSite } from './install-fixture.js';

export const REFS = {
  app1: 'registry.example.internal/shop/app1:1.0',
  app2: 'registry.example.internal/shop/app2:1.0',
  app1v2: 'registry.example.internal/shop/app1:1.1',
  app3: 'registry.example.internal/shop/app3:1.0',
  multi: 'registry.example.internal/shop/multi:1.0',
};

export interface DeltaFixture extends Fixture {
  images: TestImages;
  /** The layer app1 1.1 changed (carried by every delta of 1.1.0) and app3's own layer. */
  app1v2Layer: string;
  app3Layer: string;
  v100: string;
  v100w: string;
  v110: string;
  /** `airlock build` of a 1.1.0 manifest (default: the one above) with extra arguments, e.g. --since; into a directory of its own. */
  build110(args: readonly string[], manifest?: string): Promise<{ bundle: string; result: CliResult }>;
  manifest110: string;
}

const imagesBlock = (entries: Array<[string, string]>) => `images:\n${entries.map(([ref, tag]) => `  - { ref: ${ref}, ociLayout: images-layout, tag: ${tag} }`).join('\n')}\n`;

export async function makeDeltaFixture(): Promise<DeltaFixture> {
  const fixture = await makeFixture();
  let app1v2Layer = '';
  let app3Layer = '';
  const images = await makeTestImages(join(fixture.dir, 'src', 'images-layout'), {
    bigLayerSize: 64 * 1024,
    extend: (builder) => {
      // The very base layer makeTestImages made (same bytes, same digest), under two new images.
      const base = layer({ 'etc/os-release': 'NAME=airlock-test\n', 'bin/base': noise('base', 64 * 1024) });
      const v2 = layer({ 'app/one.txt': 'one, version 2\n', 'app/data': noise('app1-v2', 40 * 1024) });
      const three = layer({ 'app/three.txt': 'three\n', 'app/data': noise('app3', 24 * 1024) });
      builder.tag('app1-v2', builder.image([base, v2]));
      builder.tag('app3', builder.image([base, three]));
      app1v2Layer = sha256(v2.gz);
      app3Layer = sha256(three.gz);
    },
  });
  const withImages = async (file: string, entries: Array<[string, string]>) => `${await fixture.manifest(file)}\n${imagesBlock(entries)}`;
  const manifest110 = await withImages('shop-1.1.0.yaml', [
    [REFS.app1v2, 'app1-v2'],
    [REFS.app2, 'app2'],
    [REFS.app3, 'app3'],
    [REFS.multi, 'multi'],
  ]);
  const [v100, v100w, v110] = [
    await fixture.build(await withImages('shop.yaml', [[REFS.app1, 'app1'], [REFS.app2, 'app2']])),
    await fixture.build(await withImages('shop.yaml', [[REFS.app1, 'app1'], [REFS.multi, 'multi']])),
    await fixture.build(manifest110),
  ];
  let builds = 0;
  return {
    ...fixture,
    images,
    app1v2Layer,
    app3Layer,
    v100,
    v100w,
    v110,
    manifest110,
    async build110(args, manifest = manifest110) {
      const n = builds++;
      const file = join(fixture.dir, 'src', `delta-${n}.yaml`);
      await writeFile(file, manifest);
      const out = join(fixture.dir, 'deltas', String(n));
      await mkdir(out, { recursive: true });
      const result = await runCli(['build', file, '--key', join(fixture.dir, 'keys', 'build.key.pem'), '--out', out, '--cache', join(fixture.dir, 'cache'), ...args], { env: fixture.env });
      return { bundle: join(out, 'shop-1.1.0.airlock'), result };
    },
  };
}

/** The receipt the last install of a site wrote (state/receipts/), as the site's operator would carry it back. */
export async function lastReceipt(site: TestSite): Promise<string> {
  const status = await runCli(['status', '--site', site.file, '--json']);
  expect(status.code, status.stderr).toBe(0);
  return (JSON.parse(status.stdout) as { installed: { receipt: string } }).installed.receipt;
}

/** `airlock status --receipt`, into the site's directory. */
export async function exportReceipt(site: TestSite, name = 'receipt.json'): Promise<string> {
  const file = join(site.dir, name);
  const result = await runCli(['status', '--site', site.file, '--receipt', file]);
  expect(result.code, result.stderr).toBe(0);
  return file;
}

export interface Holdings {
  site: string;
  release: { name: string; version: string; digest: string } | null;
  targets: Array<{ kind: string; location: string; images: Array<{ ref: string; present: boolean }>; blobs: Array<{ digest: string; size: number; repositories?: string[] }> }>;
}

export async function holdingsOf(receipt: string): Promise<Holdings> {
  return (JSON.parse(await readFile(receipt, 'utf8')) as { holdings: Holdings }).holdings;
}

export async function deltaOf(bundle: string): Promise<{ bases: unknown[]; omitted: Array<{ digest: string; size: number }> } | undefined> {
  const inspect = await runCli(['inspect', bundle, '--json']);
  expect(inspect.code, inspect.stderr).toBe(0);
  return (JSON.parse(inspect.stdout) as { delta: { bases: unknown[]; omitted: Array<{ digest: string; size: number }> } | null }).delta ?? undefined;
}

/** Every file under a directory, path -> sha256 (an OCI layout's whole content; ingest/ leftovers would show). */
export async function treeHashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of await walk(root)) out[path] = createHash('sha256').update(await readFile(join(root, path))).digest('hex');
  return out;
}

/**
 * A registry's state as its storage tree records it, without asking airlock: per repository,
 * the layer links (which blobs it holds), the manifest revisions and the tags with what they point at.
 */
export async function registryState(storageDir: string): Promise<Record<string, { layers: string[]; revisions: string[]; tags: Record<string, string> }>> {
  const root = join(storageDir, 'docker', 'registry', 'v2', 'repositories');
  const state: Record<string, { layers: string[]; revisions: string[]; tags: Record<string, string> }> = {};
  const list = (dir: string) => readdir(dir).catch(() => [] as string[]);
  const repositories: string[] = [];
  const find = async (dir: string, name: string): Promise<void> => {
    const names = await list(dir);
    if (names.includes('_layers')) repositories.push(name);
    for (const child of names.filter((n) => !n.startsWith('_'))) await find(join(dir, child), name ? `${name}/${child}` : child);
  };
  await find(root, '');
  for (const name of repositories.sort()) {
    const dir = join(root, name);
    const linked = async (sub: string) => {
      const hexes = await list(join(dir, sub, 'sha256'));
      const present: string[] = [];
      for (const hex of hexes) if ((await list(join(dir, sub, 'sha256', hex))).includes('link')) present.push(`sha256:${hex}`);
      return present.sort();
    };
    const tags: Record<string, string> = {};
    for (const tag of await list(join(dir, '_manifests', 'tags'))) tags[tag] = (await readFile(join(dir, '_manifests', 'tags', tag, 'current', 'link'), 'utf8')).trim();
    state[name] = { layers: await linked('_layers'), revisions: await linked(join('_manifests', 'revisions')), tags };
  }
  return state;
}

/**
 * What `airlock build --since` is given to cut a delta against: a site's receipt (what its image
 * target was found to hold), or an earlier bundle or its release media (every blob it carries or
 * itself left out as held: a site that installed it holds them all). An earlier bundle is read,
 * not verified: it only decides what to leave out, and the install checks the site holds every
 * blob left out before it changes anything.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { BLOBS_DIR, CHECKSUMS_PATH } from '../bundle/format.js';
import { sha256Hex } from '../hash/digest.js';
import type { DeltaBase } from '../manifest/delta.js';
import { parseReceiptHoldings } from '../manifest/holdings.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { openBundle } from '../media/open-bundle.js';

export interface BaseHoldings {
  base: DeltaBase;
  /** Blob digest -> size, of every blob the base holds. */
  held: ReadonlyMap<string, number>;
}

export async function readBase(path: string): Promise<BaseHoldings> {
  const kind = await sniff(path);
  return kind === 'receipt' ? readReceipt(path) : readBundleBase(path);
}

/** A receipt is JSON (it starts with `{`); anything else is taken for a bundle, a volume or a media directory. */
async function sniff(path: string): Promise<'receipt' | 'bundle'> {
  const stats = await stat(path).catch((cause: unknown) => {
    throw new AirlockError('INPUT_NOT_FOUND', `--since ${path}: no such receipt, bundle or media directory`, { cause });
  });
  if (stats.isDirectory()) return 'bundle';
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('{') ? 'receipt' : 'bundle';
  } finally {
    await handle.close();
  }
}

async function readReceipt(path: string): Promise<BaseHoldings> {
  const holdings = parseReceiptHoldings(await readFile(path), path);
  const held = new Map<string, number>();
  for (const target of holdings.targets) for (const blob of target.blobs) held.set(blob.digest, blob.size);
  return { base: { kind: 'receipt', site: holdings.site, release: holdings.release }, held };
}

async function readBundleBase(path: string): Promise<BaseHoldings> {
  const reader = await openBundle(path);
  try {
    const manifest = await readBundleManifest(reader);
    const digest = sha256Hex(await reader.readFile(CHECKSUMS_PATH));
    const held = new Map<string, number>();
    for (const entry of reader.entries) if (entry.path.startsWith(BLOBS_DIR)) held.set(`sha256:${entry.path.slice(BLOBS_DIR.length)}`, entry.size);
    for (const blob of manifest.delta?.omitted ?? []) held.set(blob.digest, blob.size);
    return { base: { kind: 'bundle', site: null, release: { name: manifest.name, version: manifest.version, digest } }, held };
  } finally {
    await reader.close();
  }
}

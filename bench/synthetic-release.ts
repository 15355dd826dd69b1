/**
 * A synthetic release of a given payload size: one environment whose configs map a directory
 * of files from a few bytes to hundreds of MB, the shape of a real release where a few large
 * artefacts carry most of the bytes. Sizes and contents come from a fixed seed, so every run
 * (and every machine) benchmarks the same release. Contents are an AES-256-CTR keystream:
 * deterministic, incompressible and generated at several GiB/s, so writing 4 GiB is quick.
 * (SHA-256's speed does not depend on the bytes; this only keeps the data honest.)
 * Options shape it further: fewer small files, images from an OCI layout, SQLite migrations.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MiB } from './units.js';

export interface SyntheticFile {
  /** Relative to the payload directory. */
  path: string;
  size: number;
}

export interface SyntheticRelease {
  dir: string;
  manifest: string;
  payloadDir: string;
  files: SyntheticFile[];
  payloadBytes: number;
}

/** The release's shape beyond its payload size. */
export interface ReleaseOptions {
  /** Files of up to 256 KiB in the payload (default 1,500). */
  smallFiles?: number;
  /** An OCI image layout inside the release directory (path relative to it): one image per tag, `bench.example/<tag>:1.0.0`. */
  images?: { layout: string; tags: readonly string[] };
  /** A database whose three small migrations (a table, 10,000 rows, an index) the release carries. */
  migrations?: { database: string };
}

const GENERATOR_VERSION = 1;
const SEED = 'airlock-bench';
const SMALL_FILES = 1500;
/** Share of the payload in 1–10 MB files; the rest (after the small files) goes to 50–300 MB files. */
const MEDIUM_SHARE = 0.2;
const CHUNK = 4 * MiB;

/** mulberry32: a tiny seeded PRNG, enough for picking sizes (and random test inputs). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The file list for a payload of exactly totalBytes (as long as the small files fit in it). */
export function planFiles(totalBytes: number, smallFiles = SMALL_FILES): SyntheticFile[] {
  const random = prng(0xa1b0c4);
  const between = (low: number, high: number) => Math.floor(low + random() * (high - low + 1));
  const files: SyntheticFile[] = [];
  let remaining = totalBytes;

  for (let index = 0; index < smallFiles; index++) {
    // Log-uniform from 1 byte to 256 KiB: mostly tiny config-like files, some larger ones.
    const size = Math.max(1, Math.floor(Math.exp(random() * Math.log(256 * 1024))));
    files.push({ path: `small/d${String(index % 30).padStart(2, '0')}/file-${String(index).padStart(4, '0')}.dat`, size });
    remaining -= size;
  }
  let medium = Math.floor(totalBytes * MEDIUM_SHARE);
  for (let index = 0; medium > 0; index++) {
    const size = Math.min(medium, between(1 * MiB, 10 * MiB));
    files.push({ path: `medium/part-${String(index).padStart(3, '0')}.bin`, size });
    medium -= size;
    remaining -= size;
  }
  for (let index = 0; remaining > 0; index++) {
    const size = remaining <= 300 * MiB ? remaining : Math.min(between(50 * MiB, 300 * MiB), remaining - 50 * MiB);
    files.push({ path: `large/artefact-${String(index).padStart(2, '0')}.img`, size });
    remaining -= size;
  }
  return files;
}

function writeFileContent(file: string, size: number, index: number): void {
  const key = createHash('sha256').update(SEED).digest();
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 0);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const zeros = Buffer.alloc(Math.min(CHUNK, size));
  const fd = openSync(file, 'w');
  try {
    let done = 0;
    while (done < size) {
      const want = Math.min(zeros.length, size - done);
      const block = cipher.update(want === zeros.length ? zeros : zeros.subarray(0, want));
      let written = 0;
      while (written < block.length) written += writeSync(fd, block, written, block.length - written);
      done += want;
    }
  } finally {
    closeSync(fd);
  }
}

const MIGRATIONS: Readonly<Record<string, string>> = {
  'V1__create_items.sql': 'CREATE TABLE bench_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL);\n',
  'V2__seed_items.sql':
    "INSERT INTO bench_items (id, name, price)\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)\nSELECT i, 'item ' || i, i * 7 % 1000 FROM n;\n",
  'V3__index_items_by_name.sql': 'CREATE INDEX bench_items_name ON bench_items (name);\n',
};

function manifestText(options: ReleaseOptions): string {
  const lines = [
    '# Synthetic release written by bench/synthetic-release.ts (npm run bench).',
    'name: bench',
    'version: 1.0.0',
    'targets:',
    '  environments: [prod]',
    'configs:',
    '  prod:',
    '    - src: payload/',
    '      dest: .',
  ];
  if (options.migrations) lines.push('migrations:', `  ${options.migrations.database}:`, `    dir: migrations/${options.migrations.database}`);
  if (options.images) {
    lines.push('images:', ...options.images.tags.map((tag) => `  - { ref: "bench.example/${tag}:1.0.0", ociLayout: ${options.images!.layout}, tag: ${tag} }`));
  }
  return [...lines, ''].join('\n');
}

/**
 * Writes the release under dir, or reuses one an earlier `--keep` run left there. Images and
 * migrations are written into the manifest (migrations beside it); an image layout must already be there.
 */
export function ensureSyntheticRelease(dir: string, totalBytes: number, say: (line: string) => void, options: ReleaseOptions = {}): SyntheticRelease {
  const payloadDir = join(dir, 'payload');
  const manifest = join(dir, 'release.yaml');
  const stampFile = join(dir, 'generated.json');
  const files = planFiles(totalBytes, options.smallFiles);
  const stamp = JSON.stringify({ version: GENERATOR_VERSION, seed: SEED, totalBytes, files: files.length, ...(Object.keys(options).length > 0 ? { options } : {}) });
  const release = { dir, manifest, payloadDir, files, payloadBytes: totalBytes };
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    say(`reusing the synthetic release in ${dir}`);
    return release;
  }
  const started = performance.now();
  files.forEach((file, index) => {
    const target = join(payloadDir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileContent(target, file.size, index);
  });
  if (options.migrations) {
    const migrationsDir = join(dir, 'migrations', options.migrations.database);
    mkdirSync(migrationsDir, { recursive: true });
    for (const [name, sql] of Object.entries(MIGRATIONS)) writeFileSync(join(migrationsDir, name), sql);
  }
  writeFileSync(manifest, manifestText(options));
  writeFileSync(stampFile, stamp);
  say(`wrote the synthetic release (${files.length} files) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return release;
}

/** Size classes of the release, for the report. */
export function describeFiles(files: readonly SyntheticFile[]): string {
  const classes = [
    { name: '< 1 MiB', test: (size: number) => size < MiB },
    { name: '1–10 MiB', test: (size: number) => size >= MiB && size <= 10 * MiB },
    { name: '> 10 MiB', test: (size: number) => size > 10 * MiB },
  ];
  return classes
    .map(({ name, test }) => {
      const chosen = files.filter((file) => test(file.size));
      const bytes = chosen.reduce((sum, file) => sum + file.size, 0);
      return `${chosen.length} files ${name} (${(bytes / MiB).toFixed(0)} MiB)`;
    })
    .join(', ');
}

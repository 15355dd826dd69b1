/**
 * Issue 14's release of many small files: one environment whose configs map a directory of N
 * files of 100 B–4 KiB (static web assets, per-host configs), 100 to a directory, two levels
 * deep. Sizes from the seeded PRNG, contents text lines from an AES-256-CTR keystream (base64),
 * so every run and machine builds the same release. Kept between runs with --keep.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './synthetic-release.js';

const GENERATOR_VERSION = 1;
const PER_DIRECTORY = 100;
const MIN_BYTES = 100;
const MAX_BYTES = 4096;

export interface ManyFilesRelease {
  dir: string;
  manifest: string;
  payloadDir: string;
  files: number;
  bytes: number;
}

export function fileDest(index: number): string {
  const dir = Math.floor(index / PER_DIRECTORY);
  return join(`site${Math.floor(dir / 100)}`, `host${dir % 100}`, `f${index}.conf`);
}

export function ensureManyFilesRelease(dir: string, files: number, say: (line: string) => void): ManyFilesRelease {
  const payloadDir = join(dir, 'payload');
  const manifest = join(dir, 'release.yaml');
  const stamp = join(dir, 'generated.json');
  const release = (bytes: number): ManyFilesRelease => ({ dir, manifest, payloadDir, files, bytes });
  if (existsSync(stamp)) {
    const made = JSON.parse(readFileSync(stamp, 'utf8')) as { version: number; files: number; bytes: number };
    if (made.version === GENERATOR_VERSION && made.files === files) return release(made.bytes);
  }
  say(`generating ${files.toLocaleString('en')} files of ${MIN_BYTES} B–${MAX_BYTES / 1024} KiB`);
  rmSync(dir, { recursive: true, force: true });
  const random = prng(files);
  const keystream = createCipheriv('aes-256-ctr', createHash('sha256').update('airlock-bench-many').digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(MAX_BYTES);
  let bytes = 0;
  let made = '';
  for (let index = 0; index < files; index++) {
    const path = join(payloadDir, fileDest(index));
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== made) mkdirSync((made = parent), { recursive: true });
    const size = MIN_BYTES + Math.floor(random() * (MAX_BYTES - MIN_BYTES + 1));
    const text = keystream.update(zeros.subarray(0, size)).toString('base64').slice(0, size - 1).replace(/(.{63})/g, '$1\n');
    const content = `${text.slice(0, size - 1)}\n`;
    writeFileSync(path, content);
    bytes += content.length;
  }
  writeFileSync(manifest, ['name: many', 'version: 1.0.0', 'targets:', '  environments: [prod]', 'configs:', '  prod:', '    - src: payload', '      dest: web', ''].join('\n'));
  writeFileSync(stamp, JSON.stringify({ version: GENERATOR_VERSION, files, bytes }));
  return release(bytes);
}

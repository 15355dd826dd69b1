/**
 * What the first medium carries so the isolated side needs Node.js and nothing else: the
 * bundled CLI itself as airlock-installer.mjs (every pure-JS dependency inlined), and the
 * SQLite driver better-sqlite3, which is native and cannot be inlined. Node 20 has no
 * built-in SQLite (node:sqlite arrived in 22.5), so the driver is carried as a tiny
 * node_modules/ beside the installer: the installer's `import('better-sqlite3')` resolves
 * there by Node's ordinary lookup, with no code change and no npm. The .node binary only
 * runs on this platform, architecture and Node ABI, which the media index records.
 */
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../base/errors.js';
import { INSTALLER_FILE } from './media-index.js';

export interface KitFile {
  from: string;
  /** Path on the medium. */
  to: string;
}

export interface InstallerKit {
  files: KitFile[];
  bytes: number;
  installer: string;
  /** Where the driver came from and what it runs on; undefined when it could not be found. */
  sqliteDriver?: { platform: string; arch: string; nodeAbi: string; nodeVersion: string };
}

/** The driver package and what it requires at run time (bindings finds the .node file). */
const DRIVER_PACKAGES: ReadonlyArray<{ name: string; keep: (rel: string) => boolean }> = [
  { name: 'better-sqlite3', keep: (rel) => rel === 'package.json' || rel === 'LICENSE' || (rel.startsWith('lib/') && rel.endsWith('.js')) || rel === 'build/Release/better_sqlite3.node' },
  { name: 'bindings', keep: (rel) => rel === 'package.json' || rel === 'LICENSE.md' || rel === 'bindings.js' },
  { name: 'file-uri-to-path', keep: (rel) => rel === 'package.json' || rel === 'LICENSE' || rel === 'index.js' },
];

/** The installer is the running CLI bundle unless `override` names another one. */
export async function installerKit(override: string | undefined, onMissingDriver: (why: string) => void): Promise<InstallerKit> {
  const installer = override ?? fileURLToPath(import.meta.url);
  if (!installer.endsWith('.mjs')) {
    throw new AirlockError('USAGE', `the installer must be the single-file CLI (dist/airlock.mjs): run media write from it (node scripts/build.mjs), or pass --installer`);
  }
  const files: KitFile[] = [{ from: installer, to: INSTALLER_FILE }];
  let sqliteDriver: InstallerKit['sqliteDriver'];
  try {
    let require = createRequire(installer);
    for (const { name, keep } of DRIVER_PACKAGES) {
      const root = dirname(require.resolve(`${name}/package.json`));
      for (const rel of await listFiles(root)) if (keep(rel)) files.push({ from: join(root, rel), to: `node_modules/${name}/${rel}` });
      // Each package resolves its own dependencies from where it lies.
      require = createRequire(join(root, 'package.json'));
    }
    if (!files.some((file) => file.to.endsWith('.node'))) throw new Error('better_sqlite3.node is not built');
    sqliteDriver = { platform: process.platform, arch: process.arch, nodeAbi: process.versions.modules, nodeVersion: process.versions.node };
  } catch (error) {
    files.splice(1);
    onMissingDriver(error instanceof Error ? error.message : String(error));
  }
  let bytes = 0;
  for (const file of files) bytes += (await stat(file.from)).size;
  return { files, bytes, installer, ...(sqliteDriver ? { sqliteDriver } : {}) };
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

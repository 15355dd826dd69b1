/**
 * Puts a checked update in place. The new store is assembled beside the old one, then two
 * renames swap them; the old store stays as `<dir>.previous`. A crash between the renames
 * leaves only `<dir>.previous`, which recoverInterruptedUpdate puts back.
 */
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseChecksums } from '../bundle/checksums.js';
import { REVOKED_FILE } from './store-schema.js';
import { loadTrustStore, type TrustStore } from './store.js';
import { UPDATE_CHECKSUMS, UPDATE_SIGNATURES, type TrustUpdate } from './update.js';
import { fsyncPath } from '../fs/fsync-path.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function previousPath(dir: string): string {
  return `${resolve(dir)}.previous`;
}

/** true when an interrupted update had left only `<dir>.previous`, now back at `dir`. */
export async function recoverInterruptedUpdate(dir: string): Promise<boolean> {
  if ((await exists(dir)) || !(await exists(previousPath(dir)))) return false;
  await rename(previousPath(dir), resolve(dir));
  return true;
}

async function place(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
  await fsyncPath(to);
}

export async function applyTrustUpdate(current: TrustStore, update: TrustUpdate): Promise<{ previous: string }> {
  const target = resolve(current.dir);
  const staged = `${target}.update-${update.store.version}`;
  await rm(staged, { recursive: true, force: true });
  await mkdir(staged);
  // The signed evidence travels with the store, so anyone can see who approved this version.
  const files = [...parseChecksums(update.checksums).keys(), UPDATE_CHECKSUMS, ...update.signatures.map((s) => `${UPDATE_SIGNATURES}/${s.keyId}.sig`)];
  for (const file of files) if (file !== REVOKED_FILE) await place(join(update.dir, file), join(staged, file));
  const revoked = [...new Set([...current.revoked, ...update.store.revoked])].sort();
  if (revoked.length > 0) {
    // Union of both sides: an update never un-revokes what this site revoked.
    await writeFile(join(staged, REVOKED_FILE), `# revoked key ids (merged by airlock keys update, version ${update.store.version})\n${revoked.join('\n')}\n`);
    await fsyncPath(join(staged, REVOKED_FILE));
  }
  await loadTrustStore(staged);
  await fsyncPath(staged);

  const previous = previousPath(target);
  await rm(previous, { recursive: true, force: true });
  await rename(target, previous);
  await rename(staged, target);
  await fsyncPath(dirname(target));
  return { previous };
}

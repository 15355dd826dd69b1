/** Writes a new key pair as <name>.key.pem (0600) and <name>.pub.pem, never over existing files. */
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../base/errors.js';
import type { GeneratedKeyPair } from './generate.js';
import { PUBLIC_KEY_SUFFIX } from './store-schema.js';

export const PRIVATE_KEY_SUFFIX = '.key.pem';
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function keyFilePaths(dir: string, name: string): { privateKey: string; publicKey: string } {
  if (!KEY_NAME.test(name)) throw new AirlockError('USAGE', `key name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
  return { privateKey: join(dir, `${name}${PRIVATE_KEY_SUFFIX}`), publicKey: join(dir, `${name}${PUBLIC_KEY_SUFFIX}`) };
}

/** Checked before the (slow) generation too, so nobody types a passphrase for nothing. */
export async function assertKeyFilesFree(paths: { privateKey: string; publicKey: string }): Promise<void> {
  for (const path of [paths.privateKey, paths.publicKey]) {
    const taken = await stat(path).then(
      () => true,
      () => false,
    );
    if (taken) throw new AirlockError('KEY_EXISTS', `${path}: already exists; refusing to overwrite a key`);
  }
}

export async function writeKeyPair(paths: { privateKey: string; publicKey: string }, pair: GeneratedKeyPair): Promise<void> {
  await assertKeyFilesFree(paths);
  await mkdir(join(paths.privateKey, '..'), { recursive: true });
  // 'wx' fails instead of replacing a file that appeared since the check.
  await writeExclusive(paths.privateKey, pair.privateKeyPem, 0o600);
  try {
    await writeExclusive(paths.publicKey, pair.publicKeyPem, 0o644);
  } catch (error) {
    await rm(paths.privateKey, { force: true });
    throw error;
  }
}

/** Creates `path`; never replaces an existing file (KEY_EXISTS). */
export async function writeExclusive(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(path, text, { flag: 'wx', mode });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AirlockError('KEY_EXISTS', `${path}: already exists; refusing to overwrite it`, { cause });
    }
    throw cause;
  }
  // The umask may have taken bits away; never let it be wider than asked.
  await chmod(path, mode);
}

/**
 * A `signatures/` directory on disk (a trust-store update, a release medium): every
 * `<keyid>.sig` with its `<keyid>.pem`, if any, for the signed-list verifier. Names follow
 * the bundle's rule (src/bundle/format.ts); anything else there is refused, so nothing
 * rides along unchecked.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSignatureFileName, signatureFileNames } from '../bundle/format.js';
import { AirlockError } from '../base/errors.js';
import type { ListSignature } from './signed-list.js';

/** The signatures in `folder`, sorted by key id; none when the folder does not exist. */
export async function readSignatureFiles(folder: string): Promise<ListSignature[]> {
  const names = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw new AirlockError('INPUT_NOT_FOUND', `${folder}: cannot read (${error.code ?? 'error'})`, { cause: error });
  });
  const keyIds = new Set<string>();
  for (const name of names.sort()) {
    const parsed = parseSignatureFileName(name);
    if (parsed === undefined) throw new AirlockError('FILE_EXTRA', `${join(folder, name)}: expected <key id>.sig or <key id>.pem`);
    if (!(await lstat(join(folder, name))).isFile()) throw new AirlockError('UNSAFE_ENTRY', `${join(folder, name)}: not a regular file`);
    keyIds.add(parsed.keyId);
  }
  const signatures: ListSignature[] = [];
  for (const keyId of keyIds) {
    const files = signatureFileNames(keyId);
    if (!names.includes(files.signature)) throw new AirlockError('FILE_EXTRA', `${join(folder, files.publicKey)}: has no ${files.signature} beside it`);
    const path = join(folder, files.signature);
    const pem = names.includes(files.publicKey) ? { path: join(folder, files.publicKey), text: await readFile(join(folder, files.publicKey), 'utf8') } : undefined;
    signatures.push({ keyId, signature: await readFile(path), path, ...(pem ? { pem } : {}) });
  }
  return signatures;
}

/**
 * Signed trust-store updates. An update is a directory carried across the gap: the whole
 * new trust store (trust.yaml at version N+1 with its root section, key and certificate
 * files, optional revoked.txt), a SHA256SUMS over those files and signatures/<keyid>.sig
 * over SHA256SUMS, as in a bundle. It is accepted when a threshold of the current root keys
 * AND a threshold of the new root keys signed it, and its version is higher.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatChecksums, parseChecksums } from '../bundle/checksums.js';
import { AirlockError } from '../base/errors.js';
import { sha256File } from '../hash/digest.js';
import { isKeyId } from './key-id.js';
import { evaluatePolicy, policyError, type PolicyResult } from './policy.js';
import { loadTrustStore, type TrustRoot, type TrustStore } from './store.js';

export const UPDATE_CHECKSUMS = 'SHA256SUMS';
export const UPDATE_SIGNATURES = 'signatures';

export interface TrustUpdate {
  dir: string;
  checksums: Buffer;
  store: TrustStore & { root: TrustRoot };
  signatures: Array<{ keyId: string; signature: Buffer }>;
}

/** Every regular file of the store in `dir` (relative '/' paths), leaving out SHA256SUMS and signatures/. */
export async function listStoreFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (prefix === '' && (entry.name === UPDATE_CHECKSUMS || entry.name === UPDATE_SIGNATURES)) continue;
    if (entry.isDirectory()) files.push(...(await listStoreFiles(dir, path)));
    else if (entry.isFile()) files.push(path);
    else throw new AirlockError('UNSAFE_ENTRY', `${join(dir, path)}: not a regular file (links and devices have no place in a trust store)`);
  }
  return files;
}

export async function computeChecksums(dir: string): Promise<Buffer> {
  const digests = new Map<string, string>();
  for (const path of await listStoreFiles(dir)) digests.set(path, await sha256File(join(dir, path)));
  return formatChecksums(digests);
}

async function readChecksums(dir: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, UPDATE_CHECKSUMS));
  } catch (cause) {
    throw new AirlockError('SIGNATURE_MISSING', `${join(dir, UPDATE_CHECKSUMS)}: missing; sign the update with \`airlock keys sign-update\``, { cause });
  }
}

/** Every file listed, with its digest; nothing unlisted. */
async function checkFiles(dir: string, checksums: Buffer): Promise<void> {
  const listed = parseChecksums(checksums);
  const present = new Set(await listStoreFiles(dir));
  for (const [path, digest] of listed) {
    if (!present.has(path)) throw new AirlockError('FILE_MISSING', `${join(dir, path)}: listed in ${UPDATE_CHECKSUMS} but missing`);
    if ((await sha256File(join(dir, path))) !== digest) throw new AirlockError('DIGEST_MISMATCH', `${join(dir, path)}: does not match ${UPDATE_CHECKSUMS}`);
  }
  for (const path of present) {
    if (!listed.has(path)) throw new AirlockError('FILE_EXTRA', `${join(dir, path)}: not listed in ${UPDATE_CHECKSUMS}`);
  }
}

export async function readSignatures(dir: string): Promise<Array<{ keyId: string; signature: Buffer }>> {
  const folder = join(dir, UPDATE_SIGNATURES);
  const names = await readdir(folder).catch(() => [] as string[]);
  const signatures: Array<{ keyId: string; signature: Buffer }> = [];
  for (const name of names.sort()) {
    const [keyId, extension] = name.split('.', 2) as [string, string | undefined];
    if (!isKeyId(keyId) || (extension !== 'sig' && extension !== 'pem') || name !== `${keyId}.${extension}`) {
      throw new AirlockError('FILE_EXTRA', `${join(folder, name)}: expected <key id>.sig or <key id>.pem`);
    }
    if (!(await lstat(join(folder, name))).isFile()) throw new AirlockError('UNSAFE_ENTRY', `${join(folder, name)}: not a regular file`);
    if (extension === 'sig') signatures.push({ keyId, signature: await readFile(join(folder, name)) });
  }
  return signatures;
}

export async function readTrustUpdate(dir: string): Promise<TrustUpdate> {
  const checksums = await readChecksums(dir);
  await checkFiles(dir, checksums);
  const store = await loadTrustStore(dir);
  if (store.policyFile === undefined || store.root === undefined) {
    throw new AirlockError('TRUST_STORE_INVALID', `${dir}: an update needs a trust.yaml with a root section (who may sign the next update)`);
  }
  return { dir, checksums, store: { ...store, root: store.root }, signatures: await readSignatures(dir) };
}

export interface UpdateApproval {
  current: PolicyResult;
  next: PolicyResult;
}

/** Which signatures over the update's SHA256SUMS count for one set of root keys. */
function approval(root: TrustRoot, revoked: Set<string>, update: TrustUpdate): PolicyResult {
  const checks = update.signatures.map(({ keyId, signature }) => ({
    keyId,
    valid: root.keys.get(keyId)?.publicKey.verify(update.checksums, signature) ?? false,
  }));
  return evaluatePolicy({ keys: root.keys, revoked, policy: { threshold: root.threshold, requiredRoles: [] } }, checks);
}

/** Throws unless `update` may replace `current`: higher version, both root thresholds met. */
export function checkTrustUpdate(current: TrustStore, update: TrustUpdate): UpdateApproval {
  if (current.root === undefined) {
    throw new AirlockError('TRUST_STORE_INVALID', `${current.policyFile ?? current.dir}: has no root section, so no update can be verified; replace the trust store by hand`);
  }
  if (update.store.version <= current.version) {
    throw new AirlockError('DOWNGRADE', `${update.dir}: trust store version ${update.store.version} is not newer than the installed version ${current.version}`);
  }
  // A key revoked on either side signs nothing: a site's own revocations survive any update.
  const revoked = new Set([...current.revoked, ...update.store.revoked]);
  const result = { current: approval(current.root, revoked, update), next: approval(update.store.root, revoked, update) };
  for (const [which, policy] of [['current root keys', result.current], ['new root keys', result.next]] as const) {
    const error = policyError(policy);
    if (error !== undefined) throw new AirlockError(error.code, `${update.dir}: ${which}: ${policy.reason ?? 'not enough signatures'}`);
  }
  return result;
}

/**
 * Signed trust-store updates. An update is a directory carried across the gap: the whole
 * new trust store (trust.yaml at version N+1 with its root section, key and certificate
 * files, optional revoked.txt), a SHA256SUMS over those files and signatures/<keyid>.sig
 * over SHA256SUMS, as in a bundle. It is accepted when a threshold of the current root keys
 * AND a threshold of the new root keys signed it, and its version is higher.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatChecksums, parseChecksums } from '../bundle/checksums.js';
import { AirlockError } from '../base/errors.js';
import { sha256File } from '../hash/digest.js';
import type { PolicyResult } from './policy.js';
import { revocationCheck } from './revocation.js';
import { readSignatureFiles } from './signature-files.js';
import { verifySignedList, type ListSignature } from './signed-list.js';
import { loadTrustStore, type TrustRoot, type TrustStore } from './store.js';

export const UPDATE_CHECKSUMS = 'SHA256SUMS';
export const UPDATE_SIGNATURES = 'signatures';

export interface TrustUpdate {
  dir: string;
  checksums: Buffer;
  store: TrustStore & { root: TrustRoot };
  signatures: ListSignature[];
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

export async function readSignatures(dir: string): Promise<ListSignature[]> {
  return readSignatureFiles(join(dir, UPDATE_SIGNATURES));
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

/** Which signatures over the update's SHA256SUMS count for one set of root keys (listed keys only: no certificates); throws unless they meet its threshold. */
function approval(which: string, root: TrustRoot, isRevoked: TrustStore['isRevoked'], update: TrustUpdate, now: Date): PolicyResult {
  const trust = { keys: root.keys, authorities: [], isRevoked, policy: { threshold: root.threshold, requiredRoles: [] } };
  const verdict = verifySignedList({ name: join(update.dir, UPDATE_CHECKSUMS), bytes: update.checksums }, update.signatures, trust, now);
  const [problem] = verdict.problems;
  if (problem !== undefined) throw new AirlockError(problem.code, `${update.dir}: ${which}: ${problem.message}`);
  return verdict.policy;
}

/** Throws unless `update` may replace `current`: higher version, both root thresholds met. */
export function checkTrustUpdate(current: TrustStore, update: TrustUpdate, now = new Date()): UpdateApproval {
  if (current.root === undefined) {
    throw new AirlockError('TRUST_STORE_INVALID', `${current.policyFile ?? current.dir}: has no root section, so no update can be verified; replace the trust store by hand`);
  }
  if (update.store.version <= current.version) {
    throw new AirlockError('DOWNGRADE', `${update.dir}: trust store version ${update.store.version} is not newer than the installed version ${current.version}`);
  }
  // A key revoked on either side signs nothing: a site's own revocations survive any update.
  const known = [current, update.store].flatMap((store) => [...store.keys.values(), ...(store.root?.keys.values() ?? [])].map((key) => key.publicKey));
  const isRevoked = revocationCheck(new Set([...current.revoked, ...update.store.revoked]), [...known, ...current.authorities, ...update.store.authorities]);
  return {
    current: approval('current root keys', current.root, isRevoked, update, now),
    next: approval('new root keys', update.store.root, isRevoked, update, now),
  };
}

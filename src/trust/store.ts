/**
 * The trust store: a directory with trust.yaml (policy and trusted keys), the public key
 * files it names, and revoked.txt. Everything that is wrong is reported at once, one line
 * per problem naming its file and field, as TRUST_STORE_INVALID.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError, isAirlockError } from '../errors.js';
import { loadYamlFile } from '../manifest/yaml-file.js';
import { parsePublicKeyPem, type PublicKey } from './keys.js';
import { parseRevokedList } from './revoked-list.js';
import { PUBLIC_KEY_SUFFIX, REVOKED_FILE, TRUST_FILE, trustFileSchema, type TrustFile } from './store-schema.js';

export interface TrustedKey {
  keyId: string;
  name: string;
  roles: string[];
  publicKey: PublicKey;
  /** The key file, relative to the store directory. */
  file: string;
}

export interface TrustPolicy {
  threshold: number;
  requiredRoles: string[];
}

export interface TrustStore {
  dir: string;
  /** trust.yaml's version; 0 for a directory without trust.yaml. */
  version: number;
  /** Path of trust.yaml, or undefined when the directory default applies. */
  policyFile: string | undefined;
  keys: Map<string, TrustedKey>;
  revoked: Set<string>;
  policy: TrustPolicy;
}

export async function loadTrustStore(dir: string): Promise<TrustStore> {
  await requireDirectory(dir);
  const trustFile = join(dir, TRUST_FILE);
  const hasPolicy = await exists(trustFile);
  const policy = hasPolicy ? await loadYamlFile(trustFile, trustFileSchema, 'TRUST_STORE_INVALID') : await defaultPolicy(dir);
  const { keys, problems } = await loadKeys(dir, policy, hasPolicy ? trustFile : undefined);
  if (hasPolicy) problems.push(...reachability(trustFile, policy));
  const revoked = await loadRevoked(join(dir, REVOKED_FILE));
  problems.push(...revoked.problems);
  if (problems.length > 0) throw new AirlockError('TRUST_STORE_INVALID', problems.join('\n'));
  return {
    dir,
    version: hasPolicy ? policy.version : 0,
    policyFile: hasPolicy ? trustFile : undefined,
    keys,
    revoked: revoked.revoked,
    policy: { threshold: policy.threshold, requiredRoles: policy.requiredRoles },
  };
}

async function requireDirectory(dir: string): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${dir}: trust store directory not found`, { cause });
  }
  if (!isDirectory) throw new AirlockError('TRUST_STORE_INVALID', `${dir}: a trust store is a directory (see keys/README.md)`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** No trust.yaml: every *.pub.pem in the directory is trusted, named after its file, one signature suffices. */
async function defaultPolicy(dir: string): Promise<TrustFile> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(PUBLIC_KEY_SUFFIX)).sort();
  if (files.length === 0) {
    throw new AirlockError('TRUST_STORE_INVALID', `${dir}: no ${TRUST_FILE} and no *${PUBLIC_KEY_SUFFIX} keys: nothing is trusted`);
  }
  return {
    version: 0,
    threshold: 1,
    requiredRoles: [],
    keys: files.map((file) => ({ file, name: file.slice(0, -PUBLIC_KEY_SUFFIX.length), roles: [] })),
  };
}

async function loadKeys(dir: string, policy: TrustFile, trustFile: string | undefined) {
  const keys = new Map<string, TrustedKey>();
  const problems: string[] = [];
  for (const [index, entry] of policy.keys.entries()) {
    const field = trustFile === undefined ? '' : `${trustFile}: keys[${index}]: `;
    const path = join(dir, entry.file);
    let publicKey: PublicKey;
    try {
      publicKey = parsePublicKeyPem(await readFile(path, 'utf8'), path);
    } catch (error) {
      const why = isAirlockError(error) ? error.message : `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
      problems.push(`${field}${why}`);
      continue;
    }
    if (entry.keyId !== undefined && entry.keyId !== publicKey.keyId) {
      problems.push(`${field}${entry.file} has key id ${publicKey.keyId}, not the pinned ${entry.keyId}`);
    }
    const same = keys.get(publicKey.keyId);
    if (same !== undefined) {
      problems.push(`${field}${entry.file} holds the same key as ${same.file} (${publicKey.keyId})`);
      continue;
    }
    keys.set(publicKey.keyId, { keyId: publicKey.keyId, name: entry.name, roles: entry.roles, publicKey, file: entry.file });
  }
  return { keys, problems };
}

/** A policy no set of trusted keys could ever meet is a mistake in the file, not a verification failure. */
function reachability(trustFile: string, policy: TrustFile): string[] {
  const problems: string[] = [];
  if (policy.threshold > policy.keys.length) {
    problems.push(`${trustFile}: threshold: ${policy.threshold} but only ${policy.keys.length} key(s) listed: it can never be met`);
  }
  for (const [index, role] of policy.requiredRoles.entries()) {
    if (!policy.keys.some((key) => key.roles.includes(role))) problems.push(`${trustFile}: requiredRoles[${index}]: no key has role ${role}`);
  }
  return problems;
}

async function loadRevoked(file: string): Promise<{ revoked: Set<string>; problems: string[] }> {
  if (!(await exists(file))) return { revoked: new Set(), problems: [] };
  return parseRevokedList(await readFile(file, 'utf8'), file);
}

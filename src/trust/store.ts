/**
 * The trust store: a directory with trust.yaml (policy and trusted keys), the public key
 * files it names, and revoked.txt. Everything that is wrong is reported at once, one line
 * per problem naming its file and field, as TRUST_STORE_INVALID.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { loadYamlFile } from '../base/yaml-file.js';
import { normalizeSerial, parseCertificatesPem, type Certificate } from './certificate.js';
import { parsePublicKeyDer, parsePublicKeyPem, type PublicKey } from './keys.js';
import { parseRevokedList } from './revoked-list.js';
import { revocationCheck, type IsRevoked, type KeyNames } from './revocation.js';
import type { SiteImagePolicy } from './image-policy-file.js';
import { IMAGE_POLICY_FILE, PUBLIC_KEY_SUFFIX, REVOKED_FILE, TRUST_FILE, trustFileSchema, type TrustFile } from './store-schema.js';

export interface TrustedKey {
  keyId: string;
  name: string;
  roles: string[];
  publicKey: PublicKey;
  /** The key file, relative to the store directory. */
  file: string;
}

/** A CA whose certificates make signers trusted (see chain.ts). */
export interface TrustedAuthority {
  name: string;
  /** Roles it may grant: a certificate gets those of its subject OUs that are listed here. */
  roles: string[];
  file: string;
  certificate: Certificate;
  /** Key id and identity of the CA's own key. */
  keyId: string;
  identity: string;
  /** Normalised serials (see normalizeSerial) of certificates it issued that are revoked. */
  revokedSerials: Set<string>;
}

/** Keys that sign trust-store updates, and how many must. */
export interface TrustRoot {
  threshold: number;
  /** Root keys have no roles (roles are for release signatures). */
  keys: Map<string, TrustedKey>;
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
  authorities: TrustedAuthority[];
  /** Absent: this store cannot be updated with `airlock keys update`, only replaced by hand. */
  root: TrustRoot | undefined;
  /** Key ids as revoked.txt lists them. */
  revoked: Set<string>;
  /** Whether a key is revoked under any of its ids (see revocation.ts), judged with every key this store knows. */
  isRevoked: IsRevoked;
  policy: TrustPolicy;
  /** The site's own image signature policy (images.yaml), which wins over a bundle's. */
  images?: SiteImagePolicy;
}

export async function loadTrustStore(dir: string): Promise<TrustStore> {
  await requireDirectory(dir);
  const trustFile = join(dir, TRUST_FILE);
  const hasPolicy = await exists(trustFile);
  const policy = hasPolicy ? await loadYamlFile(trustFile, trustFileSchema, 'TRUST_STORE_INVALID') : await defaultPolicy(dir);
  const field = (path: string) => (hasPolicy ? `${trustFile}: ${path}: ` : '');
  const { keys, problems } = await loadKeys(dir, policy.keys, (index) => field(`keys[${index}]`));
  const authorities = await loadAuthorities(dir, policy, (index) => field(`authorities[${index}]`), problems);
  const root = policy.root === undefined ? undefined : await loadKeys(dir, policy.root.keys, (index) => field(`root.keys[${index}]`));
  if (root !== undefined) problems.push(...root.problems);
  if (hasPolicy) problems.push(...reachability(trustFile, policy));
  const revoked = await loadRevoked(join(dir, REVOKED_FILE));
  problems.push(...revoked.problems);
  if (problems.length > 0) throw new AirlockError('TRUST_STORE_INVALID', problems.join('\n'));
  // Its schemas and the cosign key code are loaded only for a store that has an image policy.
  const images = (await exists(join(dir, IMAGE_POLICY_FILE))) ? await import('./image-policy-file.js').then(({ loadSiteImagePolicy }) => loadSiteImagePolicy(dir)) : undefined;
  const known: KeyNames[] = [...[...keys.values(), ...(root?.keys.values() ?? [])].map((key) => key.publicKey), ...authorities];
  return {
    dir,
    version: hasPolicy ? policy.version : 0,
    policyFile: hasPolicy ? trustFile : undefined,
    keys,
    authorities,
    root: root === undefined || policy.root === undefined ? undefined : { threshold: policy.root.threshold, keys: root.keys },
    revoked: revoked.revoked,
    isRevoked: revocationCheck(revoked.revoked, known),
    policy: { threshold: policy.threshold, requiredRoles: policy.requiredRoles },
    ...(images ? { images } : {}),
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
    authorities: [],
  };
}

async function readStoreFile(dir: string, file: string): Promise<{ path: string; text: string }> {
  const path = join(dir, file);
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (error) {
    throw new AirlockError('TRUST_STORE_INVALID', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

function why(error: unknown): string {
  return isAirlockError(error) ? error.message : String(error);
}

async function loadKeys<E extends { file: string; name: string; keyId?: string | undefined; roles?: string[] }>(
  dir: string,
  entries: E[],
  field: (index: number) => string,
) {
  const keys = new Map<string, TrustedKey>();
  const problems: string[] = [];
  for (const [index, entry] of entries.entries()) {
    let publicKey: PublicKey;
    try {
      const { path, text } = await readStoreFile(dir, entry.file);
      publicKey = parsePublicKeyPem(text, path);
    } catch (error) {
      problems.push(`${field(index)}${why(error)}`);
      continue;
    }
    if (entry.keyId !== undefined && entry.keyId !== publicKey.keyId) {
      problems.push(`${field(index)}${entry.file} has key id ${publicKey.keyId}, not the pinned ${entry.keyId}`);
    }
    const same = sameKey([...keys.values()].map((key) => ({ ...key.publicKey, file: key.file })), publicKey);
    if (same !== undefined) {
      problems.push(`${field(index)}${entry.file} holds the same key as ${same}`);
      continue;
    }
    keys.set(publicKey.keyId, { keyId: publicKey.keyId, name: entry.name, roles: entry.roles ?? [], publicKey, file: entry.file });
  }
  return { keys, problems };
}

async function loadAuthorities(dir: string, policy: TrustFile, field: (index: number) => string, problems: string[]): Promise<TrustedAuthority[]> {
  const authorities: TrustedAuthority[] = [];
  for (const [index, entry] of policy.authorities.entries()) {
    let certificate: Certificate;
    try {
      const { path, text } = await readStoreFile(dir, entry.file);
      [certificate] = parseCertificatesPem(text, path) as [Certificate];
    } catch (error) {
      problems.push(`${field(index)}${why(error)}`);
      continue;
    }
    // RFC 5280 §4.2.1.3/§4.2.1.9: only a CA certificate (with keyCertSign, when keyUsage is present) may issue.
    if (!certificate.isCa || certificate.keyUsage?.keyCertSign === false) {
      problems.push(`${field(index)}${entry.file} is not a CA certificate (basicConstraints CA:TRUE and keyUsage keyCertSign)`);
      continue;
    }
    let key: PublicKey;
    try {
      key = parsePublicKeyDer(certificate.spki, entry.file);
    } catch (error) {
      problems.push(`${field(index)}${why(error)}`);
      continue;
    }
    const same = sameKey(authorities, key);
    if (same !== undefined) {
      problems.push(`${field(index)}${entry.file} holds the same key as ${same}`);
      continue;
    }
    authorities.push({
      name: entry.name,
      roles: entry.roles,
      file: entry.file,
      certificate,
      keyId: key.keyId,
      identity: key.identity,
      revokedSerials: new Set(entry.revokedSerials.map(normalizeSerial)),
    });
  }
  return authorities;
}

/**
 * One key is one entry: the same key written twice (another encoding, or its certificate)
 * would count twice towards a threshold. Says which entry already holds it.
 */
function sameKey(entries: ReadonlyArray<KeyNames & { file: string }>, key: KeyNames): string | undefined {
  const same = entries.find((entry) => entry.identity === key.identity);
  if (same === undefined) return undefined;
  return same.keyId === key.keyId ? `${same.file} (${key.keyId})` : `${same.file} (key id ${same.keyId} there, ${key.keyId} here: one key in two encodings)`;
}

/** A policy no set of trusted keys could ever meet is a mistake in the file, not a verification failure. */
function reachability(trustFile: string, policy: TrustFile): string[] {
  const problems: string[] = [];
  if (policy.authorities.length === 0 && policy.threshold > policy.keys.length) {
    problems.push(`${trustFile}: threshold: ${policy.threshold} but only ${policy.keys.length} key(s) listed: it can never be met`);
  }
  for (const [index, role] of policy.requiredRoles.entries()) {
    const holders = [...policy.keys, ...policy.authorities];
    if (!holders.some((holder) => holder.roles.includes(role))) problems.push(`${trustFile}: requiredRoles[${index}]: no key or authority has role ${role}`);
  }
  return problems;
}

async function loadRevoked(file: string): Promise<{ revoked: Set<string>; problems: string[] }> {
  if (!(await exists(file))) return { revoked: new Set(), problems: [] };
  return parseRevokedList(await readFile(file, 'utf8'), file);
}

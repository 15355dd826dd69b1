/** `airlock keys ...`: make key pairs, show a trust store, print key ids. */
import { AirlockError } from '../base/errors.js';
import type { KeyType } from '../trust/algorithms.js';
import { describeName } from '../trust/certificate.js';
import { generateKeyPair } from '../trust/generate.js';
import { assertKeyFilesFree, keyFilePaths, writeKeyPair } from '../trust/key-files.js';
import { parsePublicKeyPem, readKeyFile } from '../trust/keys.js';
import { decodePemBlocks } from '../trust/pem.js';
import { loadTrustStore } from '../trust/store.js';
import { table } from '../ui/format.js';
import type { Output } from '../ui/output.js';
import { readPassphrase } from '../ui/passphrase.js';
import { openSigningKey } from './signing-key.js';

export interface KeysGenerateOptions {
  name: string;
  out: string;
  type?: string;
  bits?: string;
  passphraseFile?: string;
  json?: boolean;
}

export interface KeysListOptions {
  trust: string;
  json?: boolean;
}

export interface KeysIdOptions {
  passphraseFile?: string;
  json?: boolean;
}

const TYPE_NAMES: Record<string, KeyType> = { ed25519: 'ed25519', rsa: 'rsa-pss', 'rsa-pss': 'rsa-pss' };
const TYPE_LABELS: Record<KeyType, string> = { ed25519: 'Ed25519', 'rsa-pss': 'RSA-PSS' };

function keyType(value: string | undefined): KeyType {
  const type = TYPE_NAMES[(value ?? 'ed25519').toLowerCase()];
  if (type === undefined) throw new AirlockError('USAGE', `--type ${value}: use ed25519 or rsa`);
  return type;
}

function bitsOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new AirlockError('USAGE', `--bits ${value}: expected a number such as 3072`);
  return Number(value);
}

export async function keysGenerateCommand(output: Output, options: KeysGenerateOptions): Promise<void> {
  const type = keyType(options.type);
  const paths = keyFilePaths(options.out, options.name);
  await assertKeyFilesFree(paths);
  const passphrase = await readPassphrase({ file: options.passphraseFile, prompt: `Passphrase for the new key ${options.name}`, confirm: true });
  const pair = await generateKeyPair({ type, bits: bitsOption(options.bits), passphrase });
  await writeKeyPair(paths, pair);
  output.result({ name: options.name, type, ...(pair.bits === undefined ? {} : { bits: pair.bits }), keyId: pair.keyId, privateKey: paths.privateKey, publicKey: paths.publicKey });
  output.say(`Generated ${TYPE_LABELS[type]}${pair.bits === undefined ? '' : ` ${pair.bits}-bit`} key pair ${options.name}`);
  output.say(table([
    ['key id', pair.keyId],
    ['private key', `${paths.privateKey} (encrypted PKCS#8, mode 0600: keep it offline)`],
    ['public key', `${paths.publicKey} (add it to a trust store: keys/README.md)`],
  ]).join('\n'));
}

export async function keysListCommand(output: Output, options: KeysListOptions): Promise<void> {
  const trust = await loadTrustStore(options.trust);
  const keys = [...trust.keys.values()].map((key) => ({
    keyId: key.keyId,
    identity: key.publicKey.identity,
    name: key.name,
    roles: key.roles,
    type: key.publicKey.type,
    file: key.file,
    revoked: trust.isRevoked(key.publicKey),
  }));
  const authorities = trust.authorities.map((authority) => ({
    name: authority.name,
    roles: authority.roles,
    file: authority.file,
    keyId: authority.keyId,
    subject: describeName(authority.certificate.subjectAttributes),
    notAfter: authority.certificate.notAfter.toISOString(),
    revokedSerials: [...authority.revokedSerials],
  }));
  const root =
    trust.root === undefined
      ? null
      : { threshold: trust.root.threshold, keys: [...trust.root.keys.values()].map((key) => ({ keyId: key.keyId, name: key.name, file: key.file })) };
  output.result({ dir: trust.dir, version: trust.version, policyFile: trust.policyFile ?? null, policy: trust.policy, keys, authorities, root, revoked: [...trust.revoked] });

  const source = trust.policyFile === undefined ? 'no trust.yaml: every *.pub.pem is trusted' : `version ${trust.version}`;
  output.say(`Trust store ${trust.dir} (${source})`);
  const roles = trust.policy.requiredRoles.length === 0 ? 'none' : trust.policy.requiredRoles.join(', ');
  const of = authorities.length === 0 ? ` of ${keys.length}` : '';
  output.say(`Policy: ${trust.policy.threshold} distinct trusted signature(s)${of}; required roles: ${roles}`);
  if (keys.length > 0) {
    output.say(table([
      ['KEY ID', 'NAME', 'ROLES', 'TYPE', 'FILE', 'STATUS'],
      ...keys.map((key) => [key.keyId, key.name, key.roles.join(',') || '-', key.type, key.file, key.revoked ? 'REVOKED' : 'trusted']),
    ]).join('\n'));
  }
  if (authorities.length > 0) {
    output.say('Certificate authorities (their certificates make signers trusted, with the roles listed):');
    output.say(table([
      ['NAME', 'ROLES', 'SUBJECT', 'VALID UNTIL', 'FILE', 'REVOKED SERIALS'],
      ...authorities.map((a) => [a.name, a.roles.join(',') || '-', a.subject, a.notAfter, a.file, a.revokedSerials.join(',') || '-']),
    ]).join('\n'));
  }
  output.say(root === null ? 'Root keys: none (this store cannot take signed updates)' : `Root keys (sign updates, ${root.threshold} needed): ${root.keys.map((key) => `${key.name} ${key.keyId}`).join('; ')}`);
  const elsewhere = [...trust.revoked].filter((keyId) => !trust.keys.has(keyId));
  if (elsewhere.length > 0) output.say(`Also revoked (not in the store):\n${elsewhere.map((keyId) => `  ${keyId}`).join('\n')}`);
}

export async function keysIdCommand(output: Output, file: string, options: KeysIdOptions): Promise<void> {
  const text = await readKeyFile(file);
  const labels = decodePemBlocks(text).map((block) => block.label);
  let kind: 'private-key' | 'certificate' | 'public-key';
  let key: { keyId: string; identity: string; type: KeyType };
  if (labels.some((label) => label.endsWith('PRIVATE KEY'))) {
    kind = 'private-key';
    key = parsePublicKeyPem((await openSigningKey(output, file, options.passphraseFile)).publicKeyPem, file);
  } else {
    kind = labels[0] === 'CERTIFICATE' ? 'certificate' : 'public-key';
    key = parsePublicKeyPem(text, file);
  }
  // The identity (one per key, whatever its encoding) is what thresholds count and revocation matches.
  output.result({ file, kind, type: key.type, keyId: key.keyId, identity: key.identity });
  output.say(key.keyId);
}

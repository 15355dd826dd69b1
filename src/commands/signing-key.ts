/** Opening a private key for a command: the passphrase is asked only if the key is encrypted, and an unencrypted key is warned about. */
import { AirlockError } from '../base/errors.js';
import { loadSigningKey, readKeyFile, withCertificate, type SigningKey } from '../trust/keys.js';
import type { Output } from '../ui/output.js';
import { PASSPHRASE_ENV, readPassphrase } from '../ui/passphrase.js';

export async function openSigningKey(output: Output, file: string, passphraseFile: string | undefined): Promise<SigningKey> {
  const key = await loadSigningKey(file, () => readPassphrase({ file: passphraseFile, prompt: `Passphrase for ${file}` }));
  if (!key.encrypted) output.warn(`warning: ${file} is not encrypted; protect it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc\``);
  return key;
}

/** Every `--key`, each presenting the `--cert` given in the same place, if any (build, media write). */
export async function openSigningKeys(output: Output, files: readonly string[], certs: readonly string[] | undefined, passphraseFile: string | undefined): Promise<SigningKey[]> {
  if (certs && certs.length > files.length) throw new AirlockError('USAGE', `--cert given ${certs.length} times for ${files.length} --key`);
  const keys: SigningKey[] = [];
  for (const [index, file] of files.entries()) {
    const key = await openSigningKey(output, file, passphraseFile);
    const cert = certs?.[index];
    keys.push(cert === undefined ? key : withCertificate(key, await readKeyFile(cert), cert));
  }
  return keys;
}

/** The passphrase comes from --passphrase-file or the environment: unlocking a key asks no one. */
export function passphraseAtHand(passphraseFile: string | undefined, env: NodeJS.ProcessEnv): boolean {
  return passphraseFile !== undefined || (env[PASSPHRASE_ENV] ?? '') !== '';
}

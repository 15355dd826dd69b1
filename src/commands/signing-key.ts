/** Opening a private key for a command: the passphrase is asked only if the key is encrypted, and an unencrypted key is warned about. */
import { loadSigningKey, type SigningKey } from '../trust/keys.js';
import type { Output } from '../ui/output.js';
import { readPassphrase } from '../ui/passphrase.js';

export async function openSigningKey(output: Output, file: string, passphraseFile: string | undefined): Promise<SigningKey> {
  const key = await loadSigningKey(file, () => readPassphrase({ file: passphraseFile, prompt: `Passphrase for ${file}` }));
  if (!key.encrypted) output.warn(`warning: ${file} is not encrypted; protect it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc\``);
  return key;
}

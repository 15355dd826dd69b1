/** `airlock sign`: a security officer countersigns a built bundle in place. */
import { countersign } from '../build/countersign.js';
import { bundleSigner } from '../build/signers.js';
import { readKeyFile, withCertificate } from '../trust/keys.js';
import type { Output } from '../ui/output.js';
import { openSigningKey } from './signing-key.js';

export interface SignOptions {
  key: string;
  cert?: string;
  passphraseFile?: string;
  json?: boolean;
}

export async function signCommand(output: Output, bundle: string, options: SignOptions): Promise<void> {
  let key = await openSigningKey(output, options.key, options.passphraseFile);
  if (options.cert) key = withCertificate(key, await readKeyFile(options.cert), options.cert);
  const result = await countersign(bundle, [bundleSigner(key)]);
  output.result({ bundle, added: result.added, alreadySigned: result.alreadySigned, checksumsDigest: result.written?.checksumsDigest ?? null });
  for (const keyId of result.alreadySigned) output.say(`${bundle} is already signed by ${keyId}: nothing to do`);
  for (const keyId of result.added) output.say(`${bundle}: added signature by ${keyId} (SHA256SUMS and payload unchanged)`);
}

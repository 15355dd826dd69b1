/** `airlock keys sign-update` and `airlock keys update`: rotating a site's trust store without editing files by hand. */
import type { PolicyResult } from '../trust/policy.js';
import { loadTrustStore } from '../trust/store.js';
import { checkTrustUpdate, readTrustUpdate } from '../trust/update.js';
import { applyTrustUpdate, recoverInterruptedUpdate } from '../trust/update-apply.js';
import { signTrustUpdate } from '../trust/update-sign.js';
import type { Output } from '../ui/output.js';
import { openSigningKey } from './signing-key.js';

export interface KeysSignUpdateOptions {
  key: string;
  passphraseFile?: string;
  json?: boolean;
}

export interface KeysUpdateOptions {
  trust: string;
  json?: boolean;
}

export async function keysSignUpdateCommand(output: Output, updateDir: string, options: KeysSignUpdateOptions): Promise<void> {
  const key = await openSigningKey(output, options.key, options.passphraseFile);
  const signed = await signTrustUpdate(updateDir, key);
  output.result(signed);
  if (signed.added) output.say(`Signed trust store update ${updateDir} (version ${signed.version}) with key ${key.keyId}`);
  else output.say(`Key ${key.keyId} had already signed ${updateDir} (version ${signed.version}); nothing to do`);
}

function signers(result: PolicyResult): string {
  return result.counted.map((signer) => `${signer.name} (${signer.keyId})`).join(', ');
}

export async function keysUpdateCommand(output: Output, updateDir: string, options: KeysUpdateOptions): Promise<void> {
  if (await recoverInterruptedUpdate(options.trust)) output.warn(`warning: ${options.trust} was restored from an interrupted update`);
  const current = await loadTrustStore(options.trust);
  const update = await readTrustUpdate(updateDir);
  const approval = checkTrustUpdate(current, update);
  const { previous } = await applyTrustUpdate(current, update);
  output.result({
    trust: options.trust,
    from: current.version,
    to: update.store.version,
    previous,
    currentRootSigners: approval.current.counted.map((s) => s.keyId),
    newRootSigners: approval.next.counted.map((s) => s.keyId),
  });
  output.say(`Trust store ${options.trust} updated from version ${current.version} to ${update.store.version}`);
  output.say(`  approved by current root keys: ${signers(approval.current)}`);
  output.say(`  approved by new root keys:     ${signers(approval.next)}`);
  output.say(`  the previous version is kept in ${previous}`);
}

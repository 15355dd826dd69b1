/**
 * One root-key holder's part in a trust-store update: SHA256SUMS over the new store (written
 * by the first signer, checked by every later one) and a signature over it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../base/errors.js';
import type { SigningKey } from './keys.js';
import { parsePublicKeyPem } from './keys.js';
import { loadTrustStore } from './store.js';
import { computeChecksums, readSignatures, UPDATE_CHECKSUMS, UPDATE_SIGNATURES } from './update.js';

export interface UpdateSignature {
  keyId: string;
  version: number;
  /** false: this key had already signed these exact contents. */
  added: boolean;
}

export async function signTrustUpdate(dir: string, key: SigningKey): Promise<UpdateSignature> {
  const store = await loadTrustStore(dir);
  if (store.policyFile === undefined || store.root === undefined) {
    throw new AirlockError('TRUST_STORE_INVALID', `${dir}: an update needs a trust.yaml with a root section (who may sign the next update)`);
  }
  const checksums = await computeChecksums(dir);
  const recorded = await readFile(join(dir, UPDATE_CHECKSUMS)).catch(() => undefined);
  const signatures = await readSignatures(dir);
  if (recorded !== undefined && !recorded.equals(checksums)) {
    throw new AirlockError(
      'INPUT_CHANGED',
      `${dir}: files changed since ${UPDATE_CHECKSUMS} was written${signatures.length > 0 ? ' and signed' : ''}; to start over, delete ${UPDATE_CHECKSUMS} and ${UPDATE_SIGNATURES}/`,
    );
  }
  if (recorded === undefined && signatures.length > 0) {
    throw new AirlockError('INPUT_CHANGED', `${dir}: signatures without ${UPDATE_CHECKSUMS}; delete ${UPDATE_SIGNATURES}/ to start over`);
  }
  const publicKey = parsePublicKeyPem(key.publicKeyPem, 'signing key');
  const existing = signatures.find((s) => s.keyId === key.keyId);
  if (existing !== undefined && publicKey.verify(checksums, existing.signature)) return { keyId: key.keyId, version: store.version, added: false };

  if (recorded === undefined) await writeFile(join(dir, UPDATE_CHECKSUMS), checksums);
  await mkdir(join(dir, UPDATE_SIGNATURES), { recursive: true });
  await writeFile(join(dir, UPDATE_SIGNATURES, `${key.keyId}.sig`), key.sign(checksums));
  await writeFile(join(dir, UPDATE_SIGNATURES, `${key.keyId}.pem`), key.publicKeyPem);
  return { keyId: key.keyId, version: store.version, added: true };
}

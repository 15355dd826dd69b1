/**
 * Adds signatures to a built bundle without touching SHA256SUMS or the payload: the bundle
 * is rewritten through the same writer, its files copied from their byte ranges in the old
 * bundle and hashed again on the way. The rewrite is refused unless the SHA256SUMS it
 * produces is byte-identical to the one already signed, so a countersignature can only
 * ever cover exactly what the first signers saw.
 */
import { AirlockError } from '../base/errors.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { checkLayout } from '../verify/check-layout.js';
import { CHECKSUMS_PATH, MANIFEST_PATH, isSignaturePath } from '../bundle/format.js';
import type { PayloadFile } from '../bundle/payload.js';
import { BundleReader } from '../bundle/reader.js';
import { writeBundle, type BundleSigner, type WrittenBundle } from '../bundle/write.js';

export interface CountersignResult {
  added: string[];
  alreadySigned: string[];
  written?: WrittenBundle;
}

export async function countersign(file: string, newSigners: readonly BundleSigner[]): Promise<CountersignResult> {
  const reader = await BundleReader.open(file);
  let plan: { payload: PayloadFile[]; manifest: Buffer; created: Date; checksums: Buffer; signers: BundleSigner[] };
  let result: CountersignResult;
  try {
    const layout = checkLayout(reader.entries, file);
    const blocking = layout.problems.find((problem) => problem.code !== 'SIGNATURE_MISSING');
    if (blocking) throw new AirlockError(blocking.code, blocking.message);

    const existing: BundleSigner[] = [];
    for (const files of layout.signatures) {
      const signature = await reader.readFile(files.signature.path);
      const publicKeyPem = files.publicKey ? (await reader.readFile(files.publicKey.path)).toString('utf8') : '';
      existing.push({ keyId: files.keyId, publicKeyPem, signatureLength: signature.length, sign: () => signature });
    }
    const have = new Set(existing.map((signer) => signer.keyId));
    const adding = newSigners.filter((signer) => !have.has(signer.keyId));
    result = { added: adding.map((s) => s.keyId), alreadySigned: newSigners.filter((s) => have.has(s.keyId)).map((s) => s.keyId) };
    if (adding.length === 0) return result;

    plan = {
      manifest: await reader.readFile(MANIFEST_PATH),
      created: new Date((await readBundleManifest(reader)).created),
      checksums: await reader.readFile(CHECKSUMS_PATH),
      signers: [...existing, ...adding],
      payload: reader.entries
        .filter((entry) => entry.path !== CHECKSUMS_PATH && entry.path !== MANIFEST_PATH && !isSignaturePath(entry.path))
        .map((entry) => ({ path: entry.path, size: entry.size, mode: entry.mode, source: { kind: 'range', file, start: entry.dataOffset } })),
    };
  } finally {
    await reader.close();
  }

  const signed = plan.checksums;
  const written = await writeBundle({
    file,
    manifest: plan.manifest,
    payload: plan.payload,
    mtime: plan.created,
    signers: plan.signers.map((signer) => ({
      ...signer,
      sign: (checksums: Buffer) => {
        if (!checksums.equals(signed)) {
          throw new AirlockError('DIGEST_MISMATCH', `${file}: its files no longer match the signed ${CHECKSUMS_PATH}; refusing to countersign (run airlock verify)`);
        }
        return signer.sign(checksums);
      },
    })),
  });
  return { ...result, written };
}

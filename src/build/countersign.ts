/**
 * Adds signatures to a built bundle without touching SHA256SUMS or the payload: the bundle
 * is rewritten through the same writer, its files copied from their byte ranges in the old
 * bundle and hashed again on the way. The rewrite is refused unless the SHA256SUMS it
 * produces is byte-identical to the one already signed, so a countersignature can only
 * ever cover exactly what the first signers saw.
 */
import { AirlockError } from '../base/errors.js';
import { parseBundleManifest } from '../manifest/read-bundle-manifest.js';
import { openFileSource } from '../fs/byte-source.js';
import { withVerified } from '../verify/load-verified.js';
import { CHECKSUMS_PATH, MANIFEST_PATH, isSignaturePath } from '../bundle/format.js';
import type { PayloadFile } from '../bundle/payload.js';
import { writeBundle, type BundleSigner, type WrittenBundle } from '../bundle/write.js';

export interface CountersignResult {
  added: string[];
  alreadySigned: string[];
  written?: WrittenBundle;
}

export async function countersign(file: string, newSigners: readonly BundleSigner[]): Promise<CountersignResult> {
  // A file, not media: the bundle is rewritten in place.
  const bundle = { name: file, open: () => openFileSource(file) };
  const read = await withVerified(bundle, { checks: 'layout', unreadable: 'throw' }, async ({ reader, report, signatureFiles }) => {
    const blocking = report.problems.find((problem) => problem.code !== 'SIGNATURE_MISSING');
    if (blocking) throw new AirlockError(blocking.code, blocking.message);

    const existing: BundleSigner[] = [];
    for (const files of signatureFiles) {
      const signature = await reader.readFile(files.signature.path);
      const publicKeyPem = files.publicKey ? (await reader.readFile(files.publicKey.path)).toString('utf8') : '';
      existing.push({ keyId: files.keyId, publicKeyPem, signatureLength: signature.length, sign: () => signature });
    }
    const have = new Set(existing.map((signer) => signer.keyId));
    const adding = newSigners.filter((signer) => !have.has(signer.keyId));
    const result: CountersignResult = { added: adding.map((s) => s.keyId), alreadySigned: newSigners.filter((s) => have.has(s.keyId)).map((s) => s.keyId) };
    if (adding.length === 0) return { result };
    const manifest = await reader.readFile(MANIFEST_PATH);
    const plan = {
      manifest,
      created: new Date(parseBundleManifest(manifest).created),
      checksums: await reader.readFile(CHECKSUMS_PATH),
      signers: [...existing, ...adding],
      payload: reader.entries
        .filter((entry) => entry.path !== CHECKSUMS_PATH && entry.path !== MANIFEST_PATH && !isSignaturePath(entry.path))
        .map((entry): PayloadFile => ({ path: entry.path, size: entry.size, mode: entry.mode, source: { kind: 'range', file, start: entry.dataOffset } })),
    };
    return { result, plan };
  });
  const { result, plan } = read;
  if (plan === undefined) return result;

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

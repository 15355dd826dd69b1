/**
 * The fixed order of a bundle's first entries: SHA256SUMS, then the signature files,
 * then airlock.json. Putting them first is what lets one pass authenticate the list of
 * digests before any payload is read.
 */
import { CHECKSUMS_PATH, MANIFEST_PATH, SIGNATURES_DIR, isSignaturePath, parseSignaturePath, signaturePaths } from '../bundle/format.js';
import type { BundleEntry } from '../bundle/scan.js';
import type { Problem } from '../base/problem.js';

export interface SignatureFiles {
  keyId: string;
  signature: BundleEntry;
  /** The signer's public key or certificate: a hint, trust comes from the trust store. */
  publicKey?: BundleEntry;
}

export function checkLayout(entries: readonly BundleEntry[], bundle: string): { problems: Problem[]; signatures: SignatureFiles[] } {
  const problems: Problem[] = [];
  if (entries[0]?.path !== CHECKSUMS_PATH) {
    problems.push({ code: 'BUNDLE_FORMAT', message: `${bundle}: first entry must be ${CHECKSUMS_PATH}, found ${entries[0]?.path ?? 'nothing'}`, path: entries[0]?.path });
  }
  let index = 1;
  const byKey = new Map<string, Partial<SignatureFiles>>();
  for (; index < entries.length && isSignaturePath(entries[index]!.path); index++) {
    const entry = entries[index]!;
    const name = parseSignaturePath(entry.path);
    if (name === undefined) {
      problems.push({ code: 'BUNDLE_FORMAT', message: `${entry.path}: not signatures/<key id>.sig or .pem`, path: entry.path });
      continue;
    }
    const files = byKey.get(name.keyId) ?? { keyId: name.keyId };
    files[name.kind] = entry;
    byKey.set(name.keyId, files);
  }
  if (entries[index]?.path !== MANIFEST_PATH) {
    problems.push({ code: 'BUNDLE_FORMAT', message: `${bundle}: ${MANIFEST_PATH} must follow the signatures, found ${entries[index]?.path ?? 'nothing'}`, path: MANIFEST_PATH });
  }
  for (const entry of entries.slice(index + 1)) {
    if (isSignaturePath(entry.path) || entry.path === CHECKSUMS_PATH) {
      problems.push({ code: 'BUNDLE_FORMAT', message: `${entry.path}: must come before ${MANIFEST_PATH} (${SIGNATURES_DIR} and ${CHECKSUMS_PATH} lead the bundle)`, path: entry.path });
    }
  }
  const signatures: SignatureFiles[] = [];
  for (const files of byKey.values()) {
    if (files.signature) signatures.push(files as SignatureFiles);
    else problems.push({ code: 'BUNDLE_FORMAT', message: `${signaturePaths(files.keyId!).publicKey} has no .sig beside it`, path: files.publicKey?.path });
  }
  if (signatures.length === 0 && problems.length === 0) {
    problems.push({ code: 'SIGNATURE_MISSING', message: `${bundle}: carries no signature` });
  }
  return { problems, signatures };
}

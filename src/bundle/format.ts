/** Names and rules fixed by bundle format v1 (docs/FORMAT.md is the spec of record). */
export const FORMAT_VERSION = 'airlock/v1';
export const BUNDLE_EXTENSION = '.airlock';
export const CHECKSUMS_PATH = 'SHA256SUMS';
export const SIGNATURES_DIR = 'signatures/';
export const MANIFEST_PATH = 'airlock.json';
export const OCI_LAYOUT_PATH = 'oci-layout';
export const OCI_INDEX_PATH = 'index.json';
export const BLOBS_DIR = 'blobs/sha256/';
export const CONFIGS_DIR = 'configs/';
export const MIGRATIONS_DIR = 'migrations/';
export const HOOKS_DIR = 'hooks/';
/** Image signature policy material: cosign keys (keys/<key id>.pem) and the Sigstore trusted root. */
export const SUPPLY_CHAIN_DIR = 'supply-chain/';

export const TAR_BLOCK = 512;
export const FILE_MODE = 0o644;
export const EXECUTABLE_MODE = 0o755;

/** The mode every tar header of a bundle records: 0755 under hooks/ (scripts the installer runs), 0644 elsewhere. */
export function fileModeFor(path: string): number {
  return path.startsWith(HOOKS_DIR) ? EXECUTABLE_MODE : FILE_MODE;
}

export function bundleFileName(name: string, version: string): string {
  return `${name}-${version}${BUNDLE_EXTENSION}`;
}

/** A key id: the lowercase hex SHA-256 of a key's SPKI DER (src/trust/key-id.ts); signature files are named by it. */
export const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;

export type SignatureFileKind = 'signature' | 'publicKey';

const SIGNATURE_EXTENSIONS: Record<SignatureFileKind, string> = { signature: '.sig', publicKey: '.pem' };

/**
 * The one rule for signature file names, in a bundle's signatures/, on release media and in
 * trust-store updates: `<keyid>.sig` (the signature) and `<keyid>.pem` (the signer's key or
 * certificate). Undefined for any other name.
 */
export function parseSignatureFileName(name: string): { keyId: string; kind: SignatureFileKind } | undefined {
  for (const [kind, extension] of Object.entries(SIGNATURE_EXTENSIONS) as Array<[SignatureFileKind, string]>) {
    const keyId = name.slice(0, -extension.length);
    if (name.endsWith(extension) && KEY_ID_PATTERN.test(keyId)) return { keyId, kind };
  }
  return undefined;
}

export function signatureFileNames(keyId: string): Record<SignatureFileKind, string> {
  return { signature: `${keyId}${SIGNATURE_EXTENSIONS.signature}`, publicKey: `${keyId}${SIGNATURE_EXTENSIONS.publicKey}` };
}

export function signaturePaths(keyId: string): Record<SignatureFileKind, string> {
  const names = signatureFileNames(keyId);
  return { signature: `${SIGNATURES_DIR}${names.signature}`, publicKey: `${SIGNATURES_DIR}${names.publicKey}` };
}

/** A bundle path `signatures/<keyid>.sig|.pem`, parsed; undefined for anything else. */
export function parseSignaturePath(path: string): { keyId: string; kind: SignatureFileKind } | undefined {
  return isSignaturePath(path) ? parseSignatureFileName(path.slice(SIGNATURES_DIR.length)) : undefined;
}

export function isSignaturePath(path: string): boolean {
  return path.startsWith(SIGNATURES_DIR);
}

/** The key ids of the `signatures/<keyid>.sig` among `paths`, in their order: who claims to have signed. */
export function signatureKeyIds(paths: Iterable<string>): string[] {
  return [...paths].flatMap((path) => {
    const name = parseSignaturePath(path);
    return name?.kind === 'signature' ? [name.keyId] : [];
  });
}

/** Below the surrogates, UTF-16 code units order exactly as the UTF-8 bytes of their characters do. */
const FIRST_SURROGATE = 0xd800;

/**
 * Byte-wise order of UTF-8 paths: the one order used for entries and SHA256SUMS lines.
 * Sorting 200,000 paths compares millions of pairs, so the strings are compared in place,
 * and encoded only when they first differ at a surrogate or above (where UTF-16 order is not UTF-8 order).
 */
export function comparePaths(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x === y) continue;
    if (x < FIRST_SURROGATE && y < FIRST_SURROGATE) return x - y;
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return a.length - b.length;
}

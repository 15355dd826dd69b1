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

export const TAR_BLOCK = 512;
export const FILE_MODE = 0o644;
export const EXECUTABLE_MODE = 0o755;

export function bundleFileName(name: string, version: string): string {
  return `${name}-${version}${BUNDLE_EXTENSION}`;
}

export function signaturePaths(keyId: string): { signature: string; publicKey: string } {
  return { signature: `${SIGNATURES_DIR}${keyId}.sig`, publicKey: `${SIGNATURES_DIR}${keyId}.pem` };
}

export function isSignaturePath(path: string): boolean {
  return path.startsWith(SIGNATURES_DIR);
}

/** Byte-wise order of UTF-8 paths: the one order used for entries and SHA256SUMS lines. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

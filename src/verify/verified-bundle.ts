/**
 * A release as the verifier vouches for it, in two stages. A SignedRelease passed the signed
 * listing (signatures, policy, SHA256SUMS, airlock.json against its line, expiry): enough to
 * decide whether it may go on this site, with no payload byte read. A VerifiedBundle also passed
 * the payload stage, and is what installs read: every file taken from it is hashed again
 * against the signed SHA256SUMS as it is read, since the media could change between
 * verification and use, and nothing unverified may reach the site.
 */
import type { Readable } from 'node:stream';
import { AirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import type { BundleReader } from '../bundle/reader.js';
import { sha256Hex, verifiedStream } from '../hash/digest.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import type { Signer } from './report.js';

export interface SignedRelease {
  /** What the bundle was opened as: a bundle file, a media directory or its first volume. */
  readonly file: string;
  readonly manifest: BundleManifest;
  /** sha256 of SHA256SUMS: the bundle's identity in state, journal, audit and receipt. */
  readonly digest: string;
  readonly signers: readonly Signer[];
  /** Verification problems the operator's flags set aside (an expired bundle under --allow-expired), and those flags. */
  readonly waived: readonly Problem[];
  readonly overrides: readonly string[];
  /** sha256 hex of a payload file, from the signed SHA256SUMS. */
  checksum(path: string): string;
}

export interface VerifiedBundle extends SignedRelease {
  readonly reader: BundleReader;
  read(path: string): Promise<Buffer>;
  /** read, blocking: for the many small files of a config batch or a plan. */
  readSync(path: string): Buffer;
  /** A large file, checked against SHA256SUMS as it streams: it fails after its last byte if it changed. */
  stream(path: string): Readable;
}

export function signedRelease(
  facts: Omit<SignedRelease, 'checksum'>,
  checksums: ReadonlyMap<string, string>,
): SignedRelease {
  return {
    ...facts,
    checksum(path: string): string {
      const hex = checksums.get(path);
      if (hex === undefined) throw new AirlockError('FILE_MISSING', `${facts.file}: airlock.json names ${path}, which SHA256SUMS does not list`);
      return hex;
    },
  };
}

export function verifiedBundle(release: SignedRelease, reader: BundleReader): VerifiedBundle {
  const changed = (path: string) => new AirlockError('DIGEST_MISMATCH', `${release.file}: ${path} changed after verification (sha256 no longer matches SHA256SUMS)`);
  return {
    ...release,
    reader,
    async read(path: string): Promise<Buffer> {
      const expected = release.checksum(path);
      const data = await reader.readFile(path);
      if (sha256Hex(data) !== expected) throw changed(path);
      return data;
    },
    readSync(path: string): Buffer {
      const data = reader.readFileSync(path);
      if (sha256Hex(data) !== release.checksum(path)) throw changed(path);
      return data;
    },
    stream(path: string): Readable {
      return verifiedStream(reader.createReadStream(path), release.checksum(path), () => changed(path));
    },
  };
}

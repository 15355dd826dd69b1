/**
 * Writes a bundle in one pass over the payload. Every entry's size is known before a
 * byte is read (file sizes, SHA256SUMS line lengths, signature lengths), so the whole tar
 * is laid out first; payload files are then read once, hashed and written straight to
 * their final offsets on all cores, and SHA256SUMS and the signatures are filled into the
 * space kept for them at the front. The result is byte-identical for identical inputs.
 */
import { open, rename, rm } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { fileFault, onFile } from '../fs/file-fault.js';
import { flushWhile } from '../fs/fsync-path.js';
import { writeAll } from '../fs/write-all.js';
import { hashRanges, type CopyAndHashJob } from '../hash/hash-pool.js';
import { sha256Hex } from '../hash/digest.js';
import { checksumLineLength, formatChecksums } from './checksums.js';
import { CHECKSUMS_PATH, FILE_MODE, MANIFEST_PATH, comparePaths, fileModeFor, isSignaturePath, signaturePaths } from './format.js';
import type { PayloadFile } from './payload.js';
import { isSafeBundlePath } from './safe-path.js';
import { END_OF_ARCHIVE, encodeFileHeader, paddedSize } from './tar-header.js';

export interface BundleSigner {
  keyId: string;
  /** Written as signatures/<keyid>.pem: the signer's public key or certificate. */
  publicKeyPem: string;
  signatureLength: number;
  sign(checksums: Buffer): Buffer | Promise<Buffer>;
}

export interface WriteBundleInput {
  file: string;
  /** The exact bytes of airlock.json. */
  manifest: Buffer;
  payload: readonly PayloadFile[];
  signers: readonly BundleSigner[];
  mtime: Date;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface WrittenBundle {
  file: string;
  size: number;
  checksums: Buffer;
  /** Hex SHA-256 of SHA256SUMS: names this exact release content, whoever signed it. */
  checksumsDigest: string;
}

interface PlacedEntry {
  path: string;
  size: number;
  header: Buffer;
  dataOffset: number;
}

export async function writeBundle(input: WriteBundleInput): Promise<WrittenBundle> {
  const payload = checkedPayload(input.payload);
  const signers = [...input.signers].sort((a, b) => comparePaths(a.keyId, b.keyId));
  const signatureFiles = signers.flatMap((signer) => {
    const paths = signaturePaths(signer.keyId);
    return [
      { path: paths.publicKey, size: Buffer.byteLength(signer.publicKeyPem) },
      { path: paths.signature, size: signer.signatureLength },
    ];
  });
  const checksummed = [{ path: MANIFEST_PATH, size: input.manifest.length }, ...payload];
  const checksumsSize = checksummed.reduce((sum, file) => sum + checksumLineLength(file.path), 0);

  const layout = [
    { path: CHECKSUMS_PATH, size: checksumsSize, mode: FILE_MODE },
    ...signatureFiles.map((file) => ({ ...file, mode: FILE_MODE })),
    { path: MANIFEST_PATH, size: input.manifest.length, mode: FILE_MODE },
    ...payload,
  ];
  let offset = 0;
  const placed: PlacedEntry[] = layout.map((entry) => {
    const header = encodeFileHeader(entry.path, entry.size, entry.mode, input.mtime);
    const dataOffset = offset + header.length;
    offset = dataOffset + paddedSize(entry.size);
    return { path: entry.path, size: entry.size, header, dataOffset };
  });
  const totalSize = offset + END_OF_ARCHIVE.length;
  const at = new Map(placed.map((entry) => [entry.path, entry]));

  // Written under a temporary name and renamed when whole: a failed build (a full disk) leaves nothing under the bundle's name.
  const partial = `${input.file}.partial`;
  const handle = await open(partial, 'w').catch((error: unknown) => Promise.reject(fileFault(error, partial)));
  try {
    // Sized up front: padding and the end-of-archive blocks are the zeros this leaves.
    await handle.truncate(totalSize);
    for (const entry of placed) await writeAll(handle, entry.header, entry.dataOffset - entry.header.length);

    const digests = new Map<string, string>();
    await writeAt(handle, at.get(MANIFEST_PATH)!, input.manifest);
    digests.set(MANIFEST_PATH, sha256Hex(input.manifest));

    const jobs: CopyAndHashJob[] = [];
    const jobPaths: string[] = [];
    for (const file of payload) {
      const position = at.get(file.path)!.dataOffset;
      if (file.source.kind === 'bytes') {
        await writeAt(handle, at.get(file.path)!, file.source.data);
        digests.set(file.path, sha256Hex(file.source.data));
      } else {
        const source = file.source.kind === 'file' ? file.source.path : file.source.file;
        const start = file.source.kind === 'range' ? file.source.start : 0;
        jobs.push({ source, start, length: file.size, copyTo: { file: partial, position } });
        jobPaths.push(file.path);
      }
    }
    let done = 0;
    const hexes = await flushWhile(
      [partial],
      hashRanges(jobs, {
        onProgress: (bytes) => input.onProgress?.((done += bytes), totalSize),
      }),
    );
    hexes.forEach((hex, index) => digests.set(jobPaths[index]!, hex));

    const checksums = formatChecksums(digests);
    if (checksums.length !== checksumsSize) throw new AirlockError('INTERNAL', `${CHECKSUMS_PATH}: laid out ${checksumsSize} bytes, made ${checksums.length}`);
    await writeAt(handle, at.get(CHECKSUMS_PATH)!, checksums);
    for (const signer of signers) {
      const paths = signaturePaths(signer.keyId);
      const signature = await signer.sign(checksums);
      if (signature.length !== signer.signatureLength) {
        throw new AirlockError('KEY_INVALID', `key ${signer.keyId}: signature is ${signature.length} bytes, expected ${signer.signatureLength}`);
      }
      await writeAt(handle, at.get(paths.publicKey)!, Buffer.from(signer.publicKeyPem));
      await writeAt(handle, at.get(paths.signature)!, signature);
    }
    await handle.sync();
    await handle.close();
    await onFile(input.file, () => rename(partial, input.file));
    return { file: input.file, size: totalSize, checksums, checksumsDigest: sha256Hex(checksums) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw fileFault(error, partial);
  }
}

async function writeAt(handle: import('node:fs/promises').FileHandle, entry: PlacedEntry, data: Buffer): Promise<void> {
  if (data.length !== entry.size) throw new AirlockError('INPUT_CHANGED', `${entry.path}: expected ${entry.size} bytes, got ${data.length}`);
  await writeAll(handle, data, entry.dataOffset);
}

function checkedPayload(payload: readonly PayloadFile[]): PayloadFile[] {
  const sorted = [...payload].sort((a, b) => comparePaths(a.path, b.path));
  sorted.forEach((file, index) => {
    if (!isSafeBundlePath(file.path)) throw new AirlockError('UNSAFE_PATH', `bundle path ${JSON.stringify(file.path)} is not safe`);
    if (file.path === CHECKSUMS_PATH || file.path === MANIFEST_PATH || isSignaturePath(file.path)) {
      throw new AirlockError('BUNDLE_FORMAT', `bundle path ${file.path} is reserved`);
    }
    if (index > 0 && sorted[index - 1]!.path === file.path) throw new AirlockError('FILE_DUPLICATE', `bundle path ${file.path} is given twice`);
    // The reader holds every header to this rule, so the writer never writes another mode.
    if (file.mode !== fileModeFor(file.path)) throw new AirlockError('BUNDLE_FORMAT', `bundle path ${file.path}: mode ${file.mode.toString(8)}, but the format gives it ${fileModeFor(file.path).toString(8)}`);
  });
  return sorted;
}

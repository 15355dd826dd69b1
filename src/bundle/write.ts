/**
 * Writes a bundle in one pass over the payload. Every entry's size is known before a
 * byte is read (file sizes, SHA256SUMS line lengths, signature lengths), so the whole tar
 * is laid out first; payload files are then read once, hashed and written straight to
 * their final offsets on all cores, and SHA256SUMS and the signatures are filled into the
 * space kept for them at the front. The result is byte-identical for identical inputs.
 */
import { writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { fileFault, onFile } from '../fs/file-fault.js';
import { flushWhile } from '../fs/fsync-path.js';
import { writeAll } from '../fs/write-all.js';
import { hashRanges, readAndHash, type CopyAndHashJob } from '../hash/hash-pool.js';
import { sha256Hex } from '../hash/digest.js';
import { checksumLineLength, formatChecksums } from './checksums.js';
import { CHECKSUMS_PATH, FILE_MODE, MANIFEST_PATH, comparePaths, fileModeFor, isSignaturePath, signaturePaths } from './format.js';
import type { PayloadFile, PayloadSource } from './payload.js';
import { isSafeBundlePath } from './safe-path.js';
import { END_OF_ARCHIVE, encodeFileHeader, fileHeaderLength, paddedSize } from './tar-header.js';

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
  onProgress?: (doneBytes: number, totalBytes: number, doneFiles: number, totalFiles: number) => void;
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
  mode: number;
  /** Where its header begins; the header itself is made when it is written, so memory does not grow with the entry count. */
  headerOffset: number;
  dataOffset: number;
  source?: PayloadSource;
}

/** A file up to this size is read on this thread into the run of headers around it; larger ones go to the hash pool's workers. */
const INLINE_FILE_BYTES = 1024 * 1024;
/** Headers and small files are gathered into runs of this size, each written with one call. */
const RUN_BYTES = 4 * 1024 * 1024;

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
  let checksumsSize = checksumLineLength(MANIFEST_PATH);
  for (const file of payload) checksumsSize += checksumLineLength(file.path);

  const layout: LaidOut[] = [
    { path: CHECKSUMS_PATH, size: checksumsSize, mode: FILE_MODE },
    ...signatureFiles.map((file) => ({ ...file, mode: FILE_MODE })),
    { path: MANIFEST_PATH, size: input.manifest.length, mode: FILE_MODE, source: { kind: 'bytes', data: input.manifest } },
    ...payload,
  ];
  let offset = 0;
  const placed: PlacedEntry[] = layout.map((entry) => {
    const headerOffset = offset;
    const dataOffset = offset + fileHeaderLength(entry.path, entry.size, entry.mode, input.mtime);
    offset = dataOffset + paddedSize(entry.size);
    return { path: entry.path, size: entry.size, mode: entry.mode, headerOffset, dataOffset, source: entry.source };
  });
  const totalSize = offset + END_OF_ARCHIVE.length;
  const at = new Map(placed.slice(0, 1 + signatureFiles.length).map((entry) => [entry.path, entry]));

  // Written under a temporary name and renamed when whole: a failed build (a full disk) leaves nothing under the bundle's name.
  const partial = `${input.file}.partial`;
  const handle = await open(partial, 'w').catch((error: unknown) => Promise.reject(fileFault(error, partial)));
  try {
    // Sized up front: padding and the end-of-archive blocks are the zeros this leaves.
    await handle.truncate(totalSize);
    let doneBytes = 0;
    let doneFiles = 0;
    // SHA256SUMS and the signatures are not files anyone waits for: the count is airlock.json and the payload.
    const progress = (bytes: number) => input.onProgress?.((doneBytes += bytes), totalSize, ++doneFiles, payload.length + 1);

    // Large files: read, hashed and written to their offsets by the workers, while this thread packs the rest.
    const pooled = placed.filter((entry) => entry.source !== undefined && entry.source.kind !== 'bytes' && entry.size > INLINE_FILE_BYTES);
    const pooledHexes = flushWhile([partial], hashRanges(pooled.map((entry) => copyJob(entry, partial)), { onProgress: progress }));
    const digests = new Map<string, string>();
    try {
      await packInline(handle.fd, partial, placed, input.mtime, digests, progress);
    } catch (error) {
      await pooledHexes.catch(() => undefined);
      throw error;
    }
    (await pooledHexes).forEach((hex, index) => digests.set(pooled[index]!.path, hex));

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

interface LaidOut {
  path: string;
  size: number;
  mode: number;
  /** Absent for SHA256SUMS and the signature files, which are written last. */
  source?: PayloadSource;
}

function copyJob(entry: PlacedEntry, partial: string): CopyAndHashJob {
  const source = entry.source!;
  if (source.kind === 'bytes') throw new AirlockError('INTERNAL', `${entry.path}: bytes are packed inline`);
  return {
    source: source.kind === 'file' ? source.path : source.file,
    start: source.kind === 'range' ? source.start : 0,
    length: entry.size,
    copyTo: { file: partial, position: entry.dataOffset },
  };
}

/**
 * Every header, and the data of every entry held in memory or small enough to read here,
 * in bundle order, gathered into runs of up to RUN_BYTES written with one call each. A run
 * ends before a large file's data (the workers write that) and before an entry too big to
 * hold; the space of SHA256SUMS and the signatures stays zero until they are written.
 * Synchronous calls, yielding between runs so the workers are kept fed.
 */
async function packInline(
  fd: number,
  partial: string,
  placed: readonly PlacedEntry[],
  mtime: Date,
  digests: Map<string, string>,
  progress: (bytes: number) => void,
): Promise<void> {
  const run = Buffer.alloc(RUN_BYTES);
  let runStart = 0;
  let runEnd = 0;
  const flush = async () => {
    if (runEnd > runStart) writeSyncAll(fd, run.subarray(0, runEnd - runStart), runStart, partial);
    run.fill(0, 0, runEnd - runStart);
    runStart = runEnd;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  /** Room in the run for bytes [start, end) of the bundle, flushing first when they would not fit. */
  const room = async (start: number, end: number): Promise<Buffer | undefined> => {
    if (end - runStart > RUN_BYTES) {
      await flush();
      runStart = start;
    }
    if (end - runStart > RUN_BYTES) return undefined;
    runEnd = end;
    return run.subarray(start - runStart, end - runStart);
  };
  for (const entry of placed) {
    const headerStart = entry.headerOffset;
    if (runEnd !== headerStart) {
      // After a large file's data: the next run starts at this header.
      await flush();
      runStart = runEnd = headerStart;
    }
    encodeFileHeader(entry.path, entry.size, entry.mode, mtime).copy((await room(headerStart, entry.dataOffset))!);
    const source = entry.source;
    if (source === undefined) continue;
    const dataEnd = entry.dataOffset + paddedSize(entry.size);
    if (source.kind === 'bytes') {
      if (source.data.length !== entry.size) throw new AirlockError('INPUT_CHANGED', `${entry.path}: expected ${entry.size} bytes, got ${source.data.length}`);
      const space = await room(entry.dataOffset, dataEnd);
      if (space) source.data.copy(space);
      else {
        // Too big for a run (the airlock.json of a huge release): written on its own, and the next run starts after it.
        writeSyncAll(fd, source.data, entry.dataOffset, partial);
        runStart = runEnd = dataEnd;
      }
      digests.set(entry.path, sha256Hex(source.data));
      progress(entry.size);
    } else if (entry.size <= INLINE_FILE_BYTES) {
      const space = (await room(entry.dataOffset, dataEnd))!;
      const from = source.kind === 'file' ? { path: source.path, start: 0 } : { path: source.file, start: source.start };
      digests.set(entry.path, readAndHash(from.path, from.start, space.subarray(0, entry.size)));
      progress(entry.size);
    } else {
      // The workers write this data: the run ends here, and the next begins after it.
      await flush();
      runStart = runEnd = dataEnd;
    }
  }
  await flush();
}

function writeSyncAll(fd: number, data: Buffer, position: number, file: string): void {
  for (let written = 0; written < data.length; ) {
    const wrote = writeSync(fd, data, written, data.length - written, position + written);
    if (wrote <= 0) throw new AirlockError('DISK_FULL', `no space left on the device writing ${file}`);
    written += wrote;
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

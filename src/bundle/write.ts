/**
 * Writes a bundle in one pass over the payload. Every entry's size is known before a
 * byte is read (file sizes, SHA256SUMS line lengths, signature lengths), so the whole tar
 * is laid out first; payload files are then read once, hashed and written straight to
 * their final offsets on all cores, and SHA256SUMS and the signatures are filled into the
 * space kept for them at the front. The result is byte-identical for identical inputs.
 */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { fileFault, onFile } from '../fs/file-fault.js';
import { flushWhile } from '../fs/fsync-path.js';
import { writeAll } from '../fs/write-all.js';
import { hashRanges, readAndHash, type CopyAndHashJob } from '../hash/hash-pool.js';
import { sha256Hex } from '../hash/digest.js';
import { checksumLineLength, checksumLines } from './checksums.js';
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

/** The whole tar laid out: where each entry's header and data begin. Headers are made when they are written. */
interface Placement {
  layout: readonly LaidOut[];
  headerOffsets: Float64Array;
  dataOffsets: Float64Array;
}

type Placed = LaidOut & { dataOffset: number };

const DIGEST_BYTES = 32;

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
  // Offsets and digests by layout index in flat arrays: an object or a string per entry is what grows at 200,000 files.
  const placed: Placement = { layout, headerOffsets: new Float64Array(layout.length), dataOffsets: new Float64Array(layout.length) };
  let offset = 0;
  layout.forEach((entry, index) => {
    placed.headerOffsets[index] = offset;
    placed.dataOffsets[index] = offset + fileHeaderLength(entry.path, entry.size, entry.mode, input.mtime);
    offset = placed.dataOffsets[index]! + paddedSize(entry.size);
  });
  const totalSize = offset + END_OF_ARCHIVE.length;
  const at = (path: string): Placed => {
    const index = layout.findIndex((entry) => entry.path === path);
    return { ...layout[index]!, dataOffset: placed.dataOffsets[index]! };
  };
  const digests = Buffer.alloc(layout.length * DIGEST_BYTES);
  const manifestIndex = 1 + signatureFiles.length;

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
    const pooled = layout.flatMap((entry, index) => (entry.source !== undefined && entry.source.kind !== 'bytes' && entry.size > INLINE_FILE_BYTES ? [index] : []));
    const pooledHexes = flushWhile([partial], hashRanges(pooled.map((index) => copyJob(layout[index]!, placed.dataOffsets[index]!, partial)), { onProgress: progress }));
    try {
      await packInline(handle.fd, partial, placed, input.mtime, digests, progress);
    } catch (error) {
      await pooledHexes.catch(() => undefined);
      throw error;
    }
    (await pooledHexes).forEach((hex, position) => digests.write(hex, pooled[position]! * DIGEST_BYTES, 'hex'));

    // airlock.json among the payload paths, which are already in order.
    const listed = Array.from({ length: layout.length - manifestIndex }, (_, position) => manifestIndex + position);
    listed.sort((a, b) => comparePaths(layout[a]!.path, layout[b]!.path));
    const checksums = checksumLines(listed.length, (line) => layout[listed[line]!]!.path, (line) => digests.toString('hex', listed[line]! * DIGEST_BYTES, (listed[line]! + 1) * DIGEST_BYTES));
    if (checksums.length !== checksumsSize) throw new AirlockError('INTERNAL', `${CHECKSUMS_PATH}: laid out ${checksumsSize} bytes, made ${checksums.length}`);
    await writeAt(handle, at(CHECKSUMS_PATH), checksums);
    for (const signer of signers) {
      const paths = signaturePaths(signer.keyId);
      const signature = await signer.sign(checksums);
      if (signature.length !== signer.signatureLength) {
        throw new AirlockError('KEY_INVALID', `key ${signer.keyId}: signature is ${signature.length} bytes, expected ${signer.signatureLength}`);
      }
      await writeAt(handle, at(paths.publicKey), Buffer.from(signer.publicKeyPem));
      await writeAt(handle, at(paths.signature), signature);
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

function copyJob(entry: LaidOut, dataOffset: number, partial: string): CopyAndHashJob {
  const source = entry.source!;
  if (source.kind === 'bytes') throw new AirlockError('INTERNAL', `${entry.path}: bytes are packed inline`);
  return {
    source: source.kind === 'file' ? source.path : source.file,
    start: source.kind === 'range' ? source.start : 0,
    length: entry.size,
    copyTo: { file: partial, position: dataOffset },
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
  placed: Placement,
  mtime: Date,
  digests: Buffer,
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
  for (let index = 0; index < placed.layout.length; index++) {
    const entry = placed.layout[index]!;
    const headerStart = placed.headerOffsets[index]!;
    const dataOffset = placed.dataOffsets[index]!;
    if (runEnd !== headerStart) {
      // After a large file's data: the next run starts at this header.
      await flush();
      runStart = runEnd = headerStart;
    }
    encodeFileHeader(entry.path, entry.size, entry.mode, mtime).copy((await room(headerStart, dataOffset))!);
    const source = entry.source;
    if (source === undefined) continue;
    const dataEnd = dataOffset + paddedSize(entry.size);
    if (source.kind === 'bytes') {
      if (source.data.length !== entry.size) throw new AirlockError('INPUT_CHANGED', `${entry.path}: expected ${entry.size} bytes, got ${source.data.length}`);
      const space = await room(dataOffset, dataEnd);
      if (space) source.data.copy(space);
      else {
        // Too big for a run (the airlock.json of a huge release): written on its own, and the next run starts after it.
        writeSyncAll(fd, source.data, dataOffset, partial);
        runStart = runEnd = dataEnd;
      }
      createHash('sha256').update(source.data).digest().copy(digests, index * DIGEST_BYTES);
      progress(entry.size);
    } else if (entry.size <= INLINE_FILE_BYTES) {
      const space = (await room(dataOffset, dataEnd))!;
      const from = source.kind === 'file' ? { path: source.path, start: 0 } : { path: source.file, start: source.start };
      digests.write(readAndHash(from.path, from.start, space.subarray(0, entry.size)), index * DIGEST_BYTES, 'hex');
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

async function writeAt(handle: import('node:fs/promises').FileHandle, entry: Placed, data: Buffer): Promise<void> {
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

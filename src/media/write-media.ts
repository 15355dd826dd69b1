/**
 * `media write`: the bundle cut into volumes on one or more media, with the index, the
 * checksums (signed by every key given: signatures/<keyid>.sig and .pem, as in a bundle,
 * so a threshold policy can be met), INSTALL.txt and the installer. Volumes are cut
 * by the hash pool's copy-and-hash loop: each volume's byte range is read once, hashed and
 * written at its offset, on every core, with a fixed buffer per thread (memory stays flat),
 * and flushed to the disk as it goes.
 */
import { copyFile, open, readdir, rename, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CHECKSUMS_PATH, SIGNATURES_DIR, comparePaths, signaturePaths } from '../bundle/format.js';
import { formatChecksums } from '../bundle/checksums.js';
import { BundleReader } from '../bundle/reader.js';
import { AirlockError } from '../base/errors.js';
import { ensureDir, exists, tempPathFor, writeFileDurable } from '../fs/durable.js';
import { onFile } from '../fs/file-fault.js';
import { flushWhile, fsyncPath, fsyncPathSync } from '../fs/fsync-path.js';
import { readBundleManifest } from '../manifest/read-bundle-manifest.js';
import { sha256File, sha256Hex } from '../hash/digest.js';
import { hashRanges, type CopyAndHashJob } from '../hash/hash-pool.js';
import type { SigningKey } from '../trust/keys.js';
import { VERSION } from '../base/version.js';
import { installText } from './install-text.js';
import { installerKit } from './installer-kit.js';
import { VOLUME_NAME } from './locate.js';
import { INSTALL_TEXT, MEDIA_FORMAT, MEDIA_INDEX, MEDIA_SUMS, mediaIndexSchema, type MediaIndex } from './media-index.js';
import { assignMedia, planVolumes, type MediumRoom, type PlannedVolume } from './plan.js';
import type { VolumeSizing } from './sizes.js';

/** Room kept on every medium for MEDIA.json, INSTALL.txt and the checksum files. */
const INDEX_RESERVE = 1024 * 1024;

export interface WriteMediaRequest {
  bundle: string;
  dirs: readonly string[];
  sizing: VolumeSizing;
  /** Capacity of each medium; else the medium kind's, else the free space of its filesystem. */
  mediaSize?: number;
  /** Every key signs each medium's SHA256SUMS.media; none: unsigned media. */
  keys: readonly SigningKey[];
  installer?: string;
  warn: (line: string) => void;
  /** Called now and then while the volumes are cut, with the bytes written so far of the bundle's size. */
  onProgress?: (done: number, total: number) => void;
}

export interface WrittenMedium {
  medium: number;
  dir: string;
  volumes: number[];
  installer: boolean;
}

export interface WriteMediaResult {
  index: MediaIndex;
  media: WrittenMedium[];
  /** Seconds spent cutting and hashing the volumes. */
  copySeconds: number;
}

export async function writeMedia(request: WriteMediaRequest): Promise<WriteMediaResult> {
  const bundle = await describeBundle(request.bundle);
  const kit = await installerKit(request.installer, (why) =>
    request.warn(`warning: no SQLite driver on the media (${why}): sites with a SQLite database will need better-sqlite3 next to the installer`),
  );
  const signers = [...request.keys].sort((a, b) => comparePaths(a.keyId, b.keyId));
  signers.forEach((key, index) => {
    if (index > 0 && signers[index - 1]!.keyId === key.keyId) throw new AirlockError('USAGE', `key ${key.keyId} is given twice: each key signs once`);
  });
  const volumes = planVolumes(bundle.file, bundle.size, request.sizing.volumeSize);
  const rooms = await Promise.all(request.dirs.map((dir) => roomOf(dir, request.mediaSize ?? request.sizing.mediumCapacity)));
  const mediumOf = assignMedia(volumes, rooms, kit.bytes, INDEX_RESERVE);
  const mediaUsed = Math.max(...mediumOf);
  for (const room of rooms.slice(mediaUsed)) request.warn(`warning: ${room.dir} is not needed: the release fits on ${mediaUsed} medium${mediaUsed === 1 ? '' : 's'}`);

  const paths = volumes.map((volume, position) => join(request.dirs[mediumOf[position]! - 1]!, volume.file));
  // Everything this run puts on the media, so that a failure (a full disk) takes it all away again:
  // what is left is the media as they were, never volumes or an index that look whole and are not.
  const written: string[] = [];
  const madeDirs: string[] = [];
  try {
    const { shas: volumeShas, copySeconds } = await writeVolumes(request.bundle, volumes, paths, written, request.onProgress);

    const kitDigests = new Map<string, string>();
    for (const file of kit.files) {
      const to = join(request.dirs[0]!, file.to);
      for (let dir = dirname(to); dir !== request.dirs[0] && !(await exists(dir)); dir = dirname(dir)) madeDirs.push(dir);
      await ensureDir(dirname(to));
      written.push(to);
      await onFile(to, async () => {
        await copyFile(file.from, tempPathFor(to));
        await fsyncPath(tempPathFor(to));
        await rename(tempPathFor(to), to);
      });
      kitDigests.set(file.to, await sha256File(to));
    }

    const index = mediaIndexSchema.parse({
      format: MEDIA_FORMAT,
      bundle,
      volumeSize: request.sizing.volumeSize,
      media: mediaUsed,
      volumes: volumes.map((volume, position) => ({ ...volume, medium: mediumOf[position], sha256: volumeShas[position] })),
      installer: { file: kit.files[0]!.to, sha256: kitDigests.get(kit.files[0]!.to), airlockVersion: VERSION, sqliteDriver: kit.sqliteDriver ?? null },
      signedBy: signers.map((key) => key.keyId),
    });
    const indexText = `${JSON.stringify(index, null, 2)}\n`;

    const media: WrittenMedium[] = [];
    for (let medium = 1; medium <= mediaUsed; medium++) {
      const dir = request.dirs[medium - 1]!;
      const text = installText({ index, medium, signers });
      const sums = new Map<string, string>([
        [MEDIA_INDEX, sha256Hex(indexText)],
        [INSTALL_TEXT, sha256Hex(text)],
      ]);
      for (const volume of index.volumes) if (volume.medium === medium) sums.set(volume.file, volume.sha256);
      if (medium === 1) for (const [path, hex] of kitDigests) sums.set(path, hex);
      const sumsBytes = formatChecksums(sums);
      const files: Array<[string, string | Buffer]> = [
        [INSTALL_TEXT, text],
        [MEDIA_SUMS, sumsBytes],
        ...signers.flatMap((key): Array<[string, string | Buffer]> => {
          const paths = signaturePaths(key.keyId);
          return [
            [paths.publicKey, key.publicKeyPem],
            [paths.signature, key.sign(sumsBytes)],
          ];
        }),
        // The index last: a medium with MEDIA.json on it is whole.
        [MEDIA_INDEX, indexText],
      ];
      if (signers.length > 0 && !(await exists(join(dir, SIGNATURES_DIR)))) madeDirs.push(join(dir, SIGNATURES_DIR));
      for (const [name, content] of files) {
        written.push(join(dir, name));
        await writeFileDurable(join(dir, name), content, 0o644);
      }
      fsyncPathSync(dir);
      media.push({ medium, dir, volumes: index.volumes.filter((volume) => volume.medium === medium).map((volume) => volume.index), installer: medium === 1 });
    }
    return { index, media, copySeconds };
  } catch (error) {
    for (const path of written.reverse()) await Promise.all([rm(path, { force: true }), rm(tempPathFor(path), { force: true })]);
    // Deepest first; each is empty now, being made by this run for files just removed.
    for (const dir of [...new Set(madeDirs)].sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => undefined);
    throw error;
  }
}

/**
 * Cuts the volumes under temporary names, hashing while copying, and renames each into place
 * once every one is whole and on the disk. Each final name goes into `written` before its
 * file is made, for the caller's clean-up.
 */
async function writeVolumes(
  bundle: string,
  volumes: readonly PlannedVolume[],
  paths: readonly string[],
  written: string[],
  onProgress: WriteMediaRequest['onProgress'],
): Promise<{ shas: string[]; copySeconds: number }> {
  const temps = paths.map(tempPathFor);
  for (const [position, path] of paths.entries()) {
    written.push(path);
    await onFile(path, async () => (await open(temps[position]!, 'w')).close());
  }
  const total = volumes.reduce((sum, volume) => sum + volume.size, 0);
  const jobs: CopyAndHashJob[] = volumes.map((volume, position) => ({
    source: bundle,
    start: volume.start,
    length: volume.size,
    copyTo: { file: temps[position]!, position: 0 },
  }));
  const started = process.hrtime.bigint();
  onProgress?.(0, total);
  const watching = onProgress === undefined ? undefined : watchSizes(temps, (done) => onProgress(done, total));
  // No sha256 of the whole bundle: a second hash of every byte, while the volumes' digests
  // (signed in SHA256SUMS.media) and SHA256SUMS's digest already pin every byte and the release.
  const shas = await flushWhile(temps, hashRanges(jobs)).finally(() => watching?.());
  for (const [position, path] of paths.entries()) {
    await fsyncPath(temps[position]!);
    await onFile(path, () => rename(temps[position]!, path));
  }
  return { shas, copySeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Every volume is written front to back, so the temp files' sizes are the bytes cut so far: a bar with no message per chunk from the workers. */
const WATCH_EVERY_MS = 200;

function watchSizes(files: readonly string[], report: (bytes: number) => void): () => void {
  let watching = true;
  let most = 0;
  const timer = setInterval(() => {
    void Promise.all(files.map((file) => stat(file).then((info) => info.size, () => 0))).then((sizes) => {
      // A look that finishes after the volumes were renamed away sees nothing: it is not a step back.
      most = Math.max(most, sizes.reduce((sum, size) => sum + size, 0));
      if (watching) report(most);
    });
  }, WATCH_EVERY_MS);
  timer.unref();
  return () => {
    watching = false;
    clearInterval(timer);
  };
}

/** Name, version, size and content digest of a bundle file (read, not verified: verify does that). */
async function describeBundle(file: string): Promise<MediaIndex['bundle']> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new AirlockError('INPUT_NOT_FOUND', `${file}: not a bundle file`);
  if (VOLUME_NAME.test(basename(file))) throw new AirlockError('USAGE', `${file} is a volume of release media: write media from the bundle file`);
  const reader = await BundleReader.open(file);
  try {
    const { name, version } = await readBundleManifest(reader);
    const checksums = await reader.readFile(CHECKSUMS_PATH);
    return { file: basename(file), name, version, size: reader.size, checksumsSha256: sha256Hex(checksums) };
  } finally {
    await reader.close();
  }
}

async function roomOf(dir: string, capacity: number | undefined): Promise<MediumRoom> {
  await ensureDir(dir);
  const names = await readdir(dir);
  const old = names.find((name) => name === MEDIA_INDEX || VOLUME_NAME.test(name));
  if (old !== undefined) throw new AirlockError('USAGE', `${dir} already holds release media (${old}): use an empty directory or medium`);
  const [fs, info] = await Promise.all([statfs(dir), stat(dir)]);
  return { dir, capacity: capacity ?? Infinity, pool: String(info.dev), poolFree: fs.bavail * fs.bsize };
}

/**
 * `media verify`, the volume part: every medium's checksum list, its signatures held to the
 * trust store's policy by the one signed-list verifier (threshold, roles, certificates,
 * revocation: as a bundle's), every volume present, of the right size and sha256, in the
 * right place. Each problem names the volume or file exactly; the bundle inside is verified
 * afterwards by the ordinary verifier, reading straight from these volumes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChecksums } from '../bundle/checksums.js';
import { SIGNATURES_DIR, signaturePaths } from '../bundle/format.js';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { hashRanges } from '../hash/hash-pool.js';
import { readSignatureFiles } from '../trust/signature-files.js';
import { verifySignedList, type ListSigner } from '../trust/signed-list.js';
import type { TrustStore } from '../trust/store.js';
import type { Problem } from '../base/problem.js';
import { locateVolumes, type LocatedVolume } from './locate.js';
import { MEDIA_INDEX, MEDIA_SUMS, readMediaIndex, volumeLabel, type MediaIndex } from './media-index.js';

export type VolumeStatus = 'ok' | 'missing' | 'size mismatch' | 'sha256 mismatch';

export interface MediumCheck {
  dir: string;
  /** Every signature over SHA256SUMS.media, as the trust store sees it. */
  signers: ListSigner[];
  /** Whether they meet the trust store's policy. */
  policyMet: boolean;
  filesChecked: number;
}

export interface MediaCheck {
  index: MediaIndex;
  media: MediumCheck[];
  volumes: Array<{ index: number; file: string; path?: string; status: VolumeStatus }>;
  problems: Problem[];
  /** Volume files in order, when every one is present and intact. */
  parts?: Array<{ file: string; size: number }>;
}

/** `onProgress` hears the bytes of the volumes hashed so far (a volume at a time) of all found. */
export async function checkMedia(dirs: readonly string[], trust: TrustStore, now: Date, onProgress?: (done: number, total: number) => void): Promise<MediaCheck> {
  const problems: Problem[] = [];
  const indexes: Array<{ dir: string; index: MediaIndex; text: string }> = [];
  for (const dir of dirs) {
    const index = await readMediaIndex(dir);
    if (index) indexes.push({ dir, index, text: await readFile(join(dir, MEDIA_INDEX), 'utf8') });
  }
  const [first] = indexes;
  if (!first) throw new AirlockError('INPUT_NOT_FOUND', `no ${MEDIA_INDEX} in ${dirs.join(', ')}: not release media`);
  for (const other of indexes.slice(1)) {
    if (other.text !== first.text) problems.push({ code: 'VOLUME_CORRUPT', message: `${join(other.dir, MEDIA_INDEX)} differs from ${join(first.dir, MEDIA_INDEX)} (media of different releases?)`, path: MEDIA_INDEX });
  }
  const { index } = first;

  const media: MediumCheck[] = [];
  for (const { dir } of indexes) media.push(await checkMedium(dir, index, trust, now, problems));

  const located = await locateVolumes(index, dirs);
  const volumes = await checkVolumes(index, located, problems, onProgress);
  const intact = volumes.every((volume) => volume.status === 'ok');
  return { index, media, volumes, problems, ...(intact ? { parts: located.map((entry) => ({ file: entry.path!, size: entry.size! })) } : {}) };
}

/** SHA256SUMS.media of one medium: its signatures, then every listed file except the volumes (checked against the index). */
async function checkMedium(dir: string, index: MediaIndex, trust: TrustStore, now: Date, problems: Problem[]): Promise<MediumCheck> {
  const sumsFile = join(dir, MEDIA_SUMS);
  const sums = await readFile(sumsFile).catch(() => undefined);
  if (sums === undefined) {
    problems.push({ code: 'FILE_MISSING', message: `${sumsFile}: missing`, path: MEDIA_SUMS });
    return { dir, signers: [], policyMet: false, filesChecked: 0 };
  }
  const signed = await checkSignatures(dir, sums, index, trust, now, problems);
  let listed: Map<string, string>;
  try {
    listed = parseChecksums(sums);
  } catch (error) {
    problems.push({ code: 'VOLUME_CORRUPT', message: `${sumsFile}: ${(error as Error).message}` });
    return { dir, ...signed, filesChecked: 0 };
  }
  const volumeFiles = new Map(index.volumes.map((volume) => [volume.file, volume]));
  const others: Array<[string, string]> = [];
  for (const [path, hex] of listed) {
    const volume = volumeFiles.get(path);
    if (volume === undefined) others.push([path, hex]);
    else if (volume.sha256 !== hex) problems.push({ code: 'VOLUME_CORRUPT', message: `${volumeLabel(index, volume)}: ${sumsFile} and ${MEDIA_INDEX} disagree on its sha256` });
  }
  const present: Array<[string, string, number]> = [];
  for (const [path, hex] of others) {
    const info = await stat(join(dir, path)).catch(() => undefined);
    if (!info?.isFile()) problems.push({ code: 'FILE_MISSING', message: `${join(dir, path)}: listed in ${MEDIA_SUMS} but missing`, path });
    else present.push([path, hex, info.size]);
  }
  const digests = await hashRanges(present.map(([path, , size]) => ({ source: join(dir, path), start: 0, length: size })));
  present.forEach(([path, hex], position) => {
    if (digests[position] !== hex) problems.push({ code: 'DIGEST_MISMATCH', message: `${join(dir, path)}: sha256 mismatch (${MEDIA_SUMS} lists ${hex})`, path });
  });
  return { dir, ...signed, filesChecked: listed.size };
}

/** The medium's signatures/ against the trust policy; every key MEDIA.json says signed must have. */
async function checkSignatures(dir: string, sums: Buffer, index: MediaIndex, trust: TrustStore, now: Date, problems: Problem[]): Promise<Pick<MediumCheck, 'signers' | 'policyMet'>> {
  let signatures;
  try {
    signatures = await readSignatureFiles(join(dir, SIGNATURES_DIR));
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    problems.push({ code: error.code, message: error.message });
    return { signers: [], policyMet: false };
  }
  for (const keyId of index.signedBy) {
    if (!signatures.some((signature) => signature.keyId === keyId)) {
      problems.push({ code: 'SIGNATURE_MISSING', message: `${join(dir, signaturePaths(keyId).signature)}: missing (${MEDIA_INDEX} says key ${keyId} signed ${MEDIA_SUMS})` });
    }
  }
  if (signatures.length === 0) {
    if (index.signedBy.length === 0) {
      problems.push({ code: 'SIGNATURE_MISSING', message: `${join(dir, MEDIA_SUMS)}: not signed (written with --unsigned): nothing vouches for the installer; compare its sha256 with the one the release team sent separately` });
    }
    return { signers: [], policyMet: false };
  }
  const verdict = verifySignedList({ name: join(dir, MEDIA_SUMS), bytes: sums }, signatures, trust, now);
  problems.push(...verdict.problems);
  return { signers: verdict.signers, policyMet: verdict.policy.met };
}

async function checkVolumes(
  index: MediaIndex,
  located: readonly LocatedVolume[],
  problems: Problem[],
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<MediaCheck['volumes']> {
  const found = located.filter((entry) => entry.path !== undefined);
  const total = found.reduce((sum, entry) => sum + entry.size!, 0);
  let done = 0;
  onProgress?.(0, total);
  const digests = await hashRanges(
    found.map((entry) => ({ source: entry.path!, start: 0, length: entry.size! })),
    { onProgress: (bytes) => onProgress?.((done += bytes), total) },
  );
  const digestOf = new Map(found.map((entry, position) => [entry.volume.index, digests[position]!]));
  const owner = new Map(index.volumes.map((volume) => [volume.sha256, volume]));
  return located.map(({ volume, path, size }) => {
    const label = volumeLabel(index, volume);
    const base = { index: volume.index, file: volume.file, ...(path ? { path } : {}) };
    if (path === undefined) {
      problems.push({ code: 'VOLUME_MISSING', message: `${label}: missing (${volume.file} is on none of the media given)`, path: volume.file });
      return { ...base, status: 'missing' as const };
    }
    const digest = digestOf.get(volume.index)!;
    if (digest === volume.sha256) return { ...base, status: 'ok' as const };
    const actually = owner.get(digest);
    const swapped = actually ? `: it holds volume ${actually.index}'s bytes (volumes swapped or renamed)` : '';
    const status = size === volume.size ? ('sha256 mismatch' as const) : ('size mismatch' as const);
    const detail = size === volume.size ? '' : `, ${size} bytes instead of ${volume.size}`;
    problems.push({ code: 'VOLUME_CORRUPT', message: `${label}: ${status} (${path}${detail})${swapped}`, path: volume.file });
    return { ...base, status };
  });
}

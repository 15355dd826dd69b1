/**
 * MEDIA.json: which volume holds which byte range of the bundle, and each volume's sha256.
 * Every medium carries the same copy; its own SHA256SUMS.media lists it, and the signatures
 * beside that (signatures/<keyid>.sig, as in a bundle) authenticate it. Read only through
 * this schema.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';

export const MEDIA_INDEX = 'MEDIA.json';
/** v2: any number of signatures per medium, in signatures/ (v1 had one SHA256SUMS.media.sig). */
export const MEDIA_FORMAT = 'airlock-media/v2';
export const MEDIA_SUMS = 'SHA256SUMS.media';
export const INSTALL_TEXT = 'INSTALL.txt';
export const INSTALLER_FILE = 'airlock-installer.mjs';

const hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex');
const count = z.number().int().nonnegative();
/** A plain file name: volumes and the bundle are looked up by name inside media directories. */
const baseName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'expected a plain file name');

const volumeSchema = z.strictObject({
  index: z.number().int().min(1),
  file: baseName,
  medium: z.number().int().min(1),
  start: count,
  size: z.number().int().min(1),
  sha256: hex,
});

export const mediaIndexSchema = z
  .strictObject({
    format: z.literal(MEDIA_FORMAT),
    bundle: z.strictObject({
      file: baseName,
      name: z.string(),
      version: z.string(),
      size: count,
      /** sha256 of the bundle's SHA256SUMS: the release's content digest (docs/FORMAT.md). */
      checksumsSha256: hex,
    }),
    volumeSize: z.number().int().min(1),
    media: z.number().int().min(1),
    volumes: z.array(volumeSchema).min(1),
    installer: z
      .strictObject({
        file: z.literal(INSTALLER_FILE),
        sha256: hex,
        airlockVersion: z.string(),
        /** The SQLite driver carried next to it (node_modules/), built for this platform and Node ABI. */
        sqliteDriver: z.strictObject({ platform: z.string(), arch: z.string(), nodeAbi: z.string(), nodeVersion: z.string() }).nullable(),
      })
      .nullable(),
    /** Key ids that signed each medium's SHA256SUMS.media, sorted; empty for unsigned media. */
    signedBy: z.array(hex),
  })
  .superRefine((index, context) => {
    let start = 0;
    index.volumes.forEach((volume, position) => {
      if (volume.index !== position + 1 || volume.start !== start || volume.medium > index.media) {
        context.addIssue({ code: 'custom', path: ['volumes', position], message: 'volumes must be numbered 1.. in order, cover the bundle contiguously and name a listed medium' });
      }
      start += volume.size;
    });
    if (start !== index.bundle.size) context.addIssue({ code: 'custom', path: ['volumes'], message: `volumes add up to ${start} bytes, bundle.size is ${index.bundle.size}` });
  });

export type MediaIndex = z.infer<typeof mediaIndexSchema>;
export type MediaVolume = MediaIndex['volumes'][number];

/** The index in `dir`, or undefined when the directory holds none. */
export async function readMediaIndex(dir: string): Promise<MediaIndex | undefined> {
  const file = join(dir, MEDIA_INDEX);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot read (${code ?? 'error'})`, { cause: error });
  }
  return parseJson(mediaIndexSchema, text, file, 'VOLUME_CORRUPT');
}

/** `volume 3 of 7`: how every message starts that is about one volume (its file name follows in brackets). */
export function volumeLabel(index: MediaIndex, volume: MediaVolume): string {
  return `volume ${volume.index} of ${index.volumes.length}`;
}

/**
 * Finding the volumes of release media: by name, in the media directories given, in
 * order. Several media (USB sticks) mounted side by side are found from any one of them:
 * sibling directories whose MEDIA.json describes the same bundle are searched too.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AirlockError } from '../base/errors.js';
import { readMediaIndex, volumeLabel, type MediaIndex, type MediaVolume } from './media-index.js';

/** A volume file name: `<bundle file>.NNN`. */
export const VOLUME_NAME = /\.airlock\.\d{3,}$/;

export interface LocatedVolume {
  volume: MediaVolume;
  /** Where it was found, or undefined when no directory has it. */
  path?: string;
  size?: number;
}

export async function locateVolumes(index: MediaIndex, dirs: readonly string[]): Promise<LocatedVolume[]> {
  return Promise.all(
    index.volumes.map(async (volume) => {
      for (const dir of dirs) {
        const path = join(dir, volume.file);
        const info = await stat(path).catch(() => undefined);
        if (info?.isFile()) return { volume, path, size: info.size };
      }
      return { volume };
    }),
  );
}

/** `dir` first, then its siblings that hold media of the same bundle. */
export async function mediaDirsAround(dir: string, index: MediaIndex): Promise<string[]> {
  const own = resolve(dir);
  const parent = dirname(own);
  const siblings = (await readdir(parent, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory() && join(parent, entry.name) !== own)
    .map((entry) => join(parent, entry.name))
    .sort();
  const same: string[] = [];
  for (const sibling of siblings) {
    const other = await readMediaIndex(sibling).catch(() => undefined);
    if (other?.bundle.checksumsSha256 === index.bundle.checksumsSha256 && other.bundle.size === index.bundle.size) same.push(sibling);
  }
  return [own, ...same];
}

/** The media directory a path names: the directory itself, or the one holding a volume. */
export async function mediaDirOf(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return path;
  if (VOLUME_NAME.test(basename(path))) return dirname(path);
  return undefined;
}

/** Every volume present with its recorded size, or the first one that is not, named. */
export function assertLocated(index: MediaIndex, located: readonly LocatedVolume[], dirs: readonly string[]): Array<{ file: string; size: number }> {
  return located.map(({ volume, path, size }) => {
    if (path === undefined) throw new AirlockError('VOLUME_MISSING', `${volumeLabel(index, volume)}: missing (${volume.file}; looked in ${dirs.join(', ')})`);
    if (size !== volume.size) throw new AirlockError('VOLUME_CORRUPT', `${volumeLabel(index, volume)}: size mismatch (${path}: ${size} bytes, MEDIA.json says ${volume.size})`);
    return { file: path, size };
  });
}

/**
 * Opens what an operator points at: a bundle file as it is, or release media (a directory with
 * MEDIA.json, or one of its volumes) as the volumes in order, read in place and never joined.
 */
import { AirlockError } from '../base/errors.js';
import { BundleReader } from '../bundle/reader.js';
import { openFileSource, openSpannedSource, type ByteSource } from '../fs/byte-source.js';
import { assertLocated, locateVolumes, mediaDirOf, mediaDirsAround } from './locate.js';
import { MEDIA_INDEX, readMediaIndex } from './media-index.js';

export async function openBundle(path: string): Promise<BundleReader> {
  return BundleReader.openSource(path, await openBundleSource(path));
}

async function openBundleSource(path: string): Promise<ByteSource> {
  const dir = await mediaDirOf(path);
  if (dir === undefined) return openFileSource(path);
  const index = await readMediaIndex(dir);
  if (index === undefined) throw new AirlockError('INPUT_NOT_FOUND', `${path}: neither a bundle file nor release media (no ${MEDIA_INDEX} in ${dir})`);
  const dirs = await mediaDirsAround(dir, index);
  const parts = assertLocated(index, await locateVolumes(index, dirs), dirs);
  return openSpannedSource(path, parts);
}

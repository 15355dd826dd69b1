/**
 * Laying out release media, as data: the bundle cut into numbered volumes, and the volumes
 * given to the media in order, each medium filled before the next is used.
 */
import { AirlockError } from '../base/errors.js';
import { humanBytes } from '../ui/format.js';

export interface PlannedVolume {
  index: number;
  file: string;
  start: number;
  size: number;
}

export function volumeFileName(bundleFile: string, index: number, count: number): string {
  return `${bundleFile}.${String(index).padStart(Math.max(3, String(count).length), '0')}`;
}

export function planVolumes(bundleFile: string, bundleSize: number, volumeSize: number): PlannedVolume[] {
  const count = Math.max(1, Math.ceil(bundleSize / volumeSize));
  return Array.from({ length: count }, (_, position) => {
    const start = position * volumeSize;
    return { index: position + 1, file: volumeFileName(bundleFile, position + 1, count), start, size: Math.min(volumeSize, bundleSize - start) };
  });
}

export interface MediumRoom {
  dir: string;
  /** What this medium may hold (Infinity when only the filesystem limits it). */
  capacity: number;
  /** Media on one filesystem share its free space: same key, one budget. */
  pool: string;
  poolFree: number;
}

/**
 * Medium number (1-based) of each volume. The first medium also carries the installer
 * (`firstExtra` bytes); every medium carries the index and checksums (`eachExtra`).
 */
export function assignMedia(volumes: readonly PlannedVolume[], media: readonly MediumRoom[], firstExtra: number, eachExtra: number): number[] {
  const poolUsed = new Map<string, number>();
  const take = (medium: MediumRoom, bytes: number) => poolUsed.set(medium.pool, (poolUsed.get(medium.pool) ?? 0) + bytes);
  const assigned: number[] = [];
  let current = -1;
  let used = 0;
  const open = (next: number) => {
    current = next;
    used = eachExtra + (next === 0 ? firstExtra : 0);
    take(media[next]!, used);
  };
  const fitsCapacity = (bytes: number) => used + bytes <= media[current]!.capacity;
  const fitsPool = (bytes: number) => (poolUsed.get(media[current]!.pool) ?? 0) + bytes <= media[current]!.poolFree;
  open(0);
  for (const volume of volumes) {
    while (!(fitsCapacity(volume.size) && fitsPool(volume.size))) {
      const medium = media[current]!;
      // Short of the filesystem's free space rather than of the medium's size: the disk is full, not the request wrong.
      const full = fitsCapacity(volume.size) ? 'DISK_FULL' : 'USAGE';
      const free = full === 'DISK_FULL' ? ` (${humanBytes(medium.poolFree)} free on the filesystem holding ${medium.dir})` : '';
      if (used === eachExtra + (current === 0 ? firstExtra : 0)) {
        throw new AirlockError(full, `medium ${current + 1} (${medium.dir}) cannot hold one ${humanBytes(volume.size)} volume plus the index${current === 0 ? ' and installer' : ''}${free}: use a smaller --volume-size or a larger medium`);
      }
      if (current + 1 >= media.length) {
        const left = volumes.length - assigned.length;
        throw new AirlockError(full, `the media given hold ${assigned.length} of ${volumes.length} volumes${free}: ${left} more (${humanBytes(volumes.slice(assigned.length).reduce((sum, v) => sum + v.size, 0))}) need another --to medium`);
      }
      open(current + 1);
    }
    used += volume.size;
    take(media[current]!, volume.size);
    assigned.push(current + 1);
  }
  return assigned;
}

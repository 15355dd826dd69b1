/**
 * Volume sizes as people write them. A medium name (dvd, bd25, ...) means "one volume per
 * disc": the volume is the disc's capacity less room for the installer and index, and the
 * disc's capacity becomes the medium size. Plain sizes only cap the volume files.
 */
import { AirlockError } from '../base/errors.js';

/** FAT32 cannot hold a file of 4 GiB or more: the default keeps every USB stick usable. */
export const FAT32_MAX_FILE = 4 * 1024 ** 3 - 1;

/** Kept free on each disc for the installer, its SQLite driver, the index and the checksums. */
export const DISC_RESERVE = 64 * 1024 ** 2;

/** Recordable capacities in bytes (2048-byte sectors × sector count of the blank disc). */
const MEDIA: Record<string, number> = {
  cd: 359_847 * 2048,
  dvd: 2_295_104 * 2048,
  'dvd-dl': 4_171_712 * 2048,
  bd25: 12_219_392 * 2048,
  bd50: 24_438_784 * 2048,
};

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export interface VolumeSizing {
  volumeSize: number;
  /** Capacity of each medium, when the size named a kind of disc. */
  mediumCapacity?: number;
}

export function parseByteSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const bytes = match ? Math.floor(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new AirlockError('USAGE', `${option} ${JSON.stringify(text)}: expected bytes, <n>K, <n>M, <n>G or <n>T`);
  }
  return bytes;
}

export function parseVolumeSize(text: string | undefined): VolumeSizing {
  if (text === undefined) return { volumeSize: FAT32_MAX_FILE };
  const capacity = MEDIA[text.toLowerCase()];
  if (capacity !== undefined) return { volumeSize: capacity - DISC_RESERVE, mediumCapacity: capacity };
  if (!/^\d/.test(text)) {
    throw new AirlockError('USAGE', `--volume-size ${JSON.stringify(text)}: expected a size (700M, 4G, bytes) or a medium: ${Object.keys(MEDIA).join(', ')}`);
  }
  return { volumeSize: parseByteSize(text, '--volume-size') };
}

/** SHA-256 of data in memory and of whole files (streamed through the hash pool's inner loop). */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { hashRanges } from './hash-pool.js';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const { size } = await stat(file);
  const [hex] = await hashRanges([{ source: file, start: 0, length: size }]);
  return hex!;
}

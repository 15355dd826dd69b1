/** The work directory: refuse up front when the disk cannot hold a run, clean up after. */
import { mkdir, rm, statfs } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { formatBytes } from './units.js';

/**
 * Bytes one size needs on disk at once: the payload, our bundle, the floor's tar and the
 * extracted copy that `sha256sum -c` reads (each about the payload's size), plus slack.
 */
export function diskNeeded(payloadBytes: number): number {
  return Math.ceil(payloadBytes * 4 * 1.05) + 2 ** 30;
}

export async function prepareWorkDir(dir: string, largestPayload: number): Promise<void> {
  await assertFreeSpace(dir, diskNeeded(largestPayload), 'the benchmark', '4x the largest payload: release, bundle, the stock tar and an extracted copy');
}

/** Refuses up front when dir's filesystem has less than `needed` bytes free. */
export async function assertFreeSpace(dir: string, needed: number, who: string, why: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < needed) {
    throw new Error(`${dir}: ${formatBytes(free)} free, ${who} needs about ${formatBytes(needed)} (${why}). Use --dir elsewhere or a smaller --size.`);
  }
}

/** Warn when the working set cannot stay in the page cache: the figures would then include disk reads. */
export function pageCacheWarning(payloadBytes: number): string | undefined {
  const workingSet = payloadBytes * 4;
  if (workingSet < totalmem() * 0.8) return undefined;
  return `working set ${formatBytes(workingSet)} vs ${formatBytes(totalmem())} RAM (${formatBytes(freemem())} free): reads will partly come from disk`;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * The stock baselines: the least work a tool can do for the same job, done by the fastest
 * tools on the machine. They are floors, not competitors: `openssl dgst -sha256` hashes on one
 * core at SHA-NI speed, `tar | tee | openssl` reads, writes and hashes every byte exactly once.
 */
import type { Command } from './measure.js';

const SHA256_LINE = /^SHA2?-256\(.+\)= [0-9a-f]{64}$/m;

export function checkOpensslDigest(stdout: string): void {
  if (!SHA256_LINE.test(stdout)) throw new Error(`openssl printed no SHA-256 line: ${stdout.slice(0, 200)}`);
}

/** Build's floor: archive the same files into a file and hash the stream once. */
export function tarTeeOpenssl(parentDir: string, entry: string, out: string): Command {
  return {
    argv: ['bash', '-c', 'set -euo pipefail; tar -cf - -C "$1" "$2" | tee "$3" | openssl dgst -sha256', 'floor', parentDir, entry, out],
  };
}

/** The same, then fsync the archive as `airlock build` does with its bundle (to show what durability costs). */
export function tarTeeOpensslSynced(parentDir: string, entry: string, out: string): Command {
  return {
    argv: ['bash', '-c', 'set -euo pipefail; tar -cf - -C "$1" "$2" | tee "$3" | openssl dgst -sha256; sync "$3"', 'floor', parentDir, entry, out],
  };
}

/** Verify's floor: one hash pass over the bundle's bytes. */
export function opensslDigest(file: string): Command {
  return { argv: ['openssl', 'dgst', '-sha256', file] };
}

/** Volumes named like airlock's (`<bundle>.001`, ...). */
const SPLIT = 'set -euo pipefail; mkdir -p "$3"; split -b "$2" -a 3 --numeric-suffixes=1 "$1" "$3/$(basename "$1")."';

/** Media write's floor: cut the bundle into numbered volumes of `volumeBytes` (001, 002, ...), nothing else. */
export function splitVolumes(bundle: string, volumeBytes: number, outDir: string): Command {
  return { argv: ['bash', '-c', SPLIT, 'split', bundle, String(volumeBytes), outDir] };
}

/** The same, then fsync every volume, as `airlock media write` does before the media are pulled out. */
export function splitVolumesSynced(bundle: string, volumeBytes: number, outDir: string): Command {
  return { argv: ['bash', '-c', `${SPLIT}; sync "$3"/*`, 'split', bundle, String(volumeBytes), outDir] };
}

/** What a security officer runs by hand in an extracted bundle. */
export function sha256sumCheck(extractedDir: string): Command {
  return { argv: ['sha256sum', '--check', '--quiet', '--strict', 'SHA256SUMS'], cwd: extractedDir };
}

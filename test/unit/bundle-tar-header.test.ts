/**
 * encodeFileHeader writes most headers from a fixed block instead of through node-tar; the
 * bytes must be node-tar's, exactly, for every path, size, mode and mtime a bundle can hold,
 * or bundles built before and after would differ and the scanner would refuse old ones.
 * The reference here is node-tar's Header itself, on the same inputs.
 */
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { TAR_BLOCK } from '../../src/bundle/format.js';
import { encodeFileHeader } from '../../src/bundle/tar-header.js';
import { prng } from '../../bench/synthetic-release.js';

function nodeTar(path: string, size: number, mode: number, mtime: Date): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  const needPax = new Header({ path, size, mode, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'File' }).encode(block, 0);
  expect(needPax).toBe(false);
  return block;
}

describe('encodeFileHeader', () => {
  it("writes node-tar's bytes for short ASCII paths of every length, sizes up to the octal limit, both modes and any second", () => {
    const random = prng(14);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/ ~';
    const sizes = [0, 1, 511, 512, 513, 4095, 0o7777777777, 0o77777777777, 8 * 1024 ** 3 - 1];
    for (let round = 0; round < 3000; round++) {
      const length = 1 + (round % 99);
      const path = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const size = round < sizes.length ? sizes[round]! : Math.floor(random() ** 4 * 0o77777777777);
      const mode = random() < 0.5 ? 0o644 : 0o755;
      const mtime = new Date(Math.floor(random() * 2 ** 33) * 1000 + (round % 3) * 250);
      expect(encodeFileHeader(path, size, mode, mtime).equals(nodeTar(path, size, mode, mtime)), `${path} ${size} ${mode.toString(8)} ${mtime.toISOString()}`).toBe(true);
    }
  });

  it('leaves long, non-ASCII and huge entries to node-tar (a PAX header or a prefix split)', () => {
    const mtime = new Date('2026-01-01T00:00:00Z');
    expect(encodeFileHeader(`configs/${'a'.repeat(95)}`, 1, 0o644, mtime).equals(nodeTar(`configs/${'a'.repeat(95)}`, 1, 0o644, mtime))).toBe(true);
    expect(encodeFileHeader('configs/prod/caf\u00e9.conf', 1, 0o644, mtime).length).toBe(2 * TAR_BLOCK + TAR_BLOCK);
    expect(encodeFileHeader('blobs/sha256/big', 8 * 1024 ** 3, 0o644, mtime).length).toBeGreaterThan(TAR_BLOCK);
  });
});

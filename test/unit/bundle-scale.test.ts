/**
 * Bundles of many small files, at a size where per-entry shortcuts (the fixed-block headers,
 * the runs of small files written at once) carry nearly every entry: a bundle of 30,000 files
 * written by writeBundle reads back whole, each file at its offset, and one changed byte among
 * them is found in that file and no other.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanEntries } from '../../src/bundle/scan.js';
import { hashRanges } from '../../src/hash/hash-pool.js';
import { sha256Hex } from '../../src/hash/digest.js';
import { writeBundle } from '../../src/bundle/write.js';

const FILES = 30000;

describe('a bundle of 30,000 small files', () => {
  it('reads back every file at its offset, and a byte changed in one file is caught in that file alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-scale-'));
    const payload = [];
    for (let index = 0; index < FILES; index++) {
      const source = join(dir, `f${index}`);
      const data = Buffer.from(`file ${index} `.repeat(1 + (index % 300)));
      await writeFile(source, data);
      payload.push({ path: `configs/prod/d${index % 97}/f${index}.conf`, size: data.length, mode: 0o644, source: { kind: 'file' as const, path: source } });
    }
    const file = join(dir, 'many.airlock');
    const written = await writeBundle({ file, manifest: Buffer.from('{}\n'), payload, signers: [], mtime: new Date('2026-01-01T00:00:00Z') });
    const bytes = await readFile(file);
    const entries = await scanEntries({ read: async (buffer, offset, length, position) => ({ bytesRead: bytes.copy(buffer, offset, position, position + length), buffer }) }, bytes.length, 'many.airlock');
    expect(entries).toHaveLength(FILES + 2);
    const sums = new Map(written.checksums.toString().trim().split('\n').map((line) => [line.slice(66), line.slice(0, 64)] as const));
    for (const entry of entries.slice(2)) expect(sha256Hex(bytes.subarray(entry.dataOffset, entry.dataOffset + entry.size)), entry.path).toBe(sums.get(entry.path));

    const victim = entries[12345]!;
    bytes.writeUInt8(bytes.readUInt8(victim.dataOffset + 3) ^ 1, victim.dataOffset + 3);
    await writeFile(file, bytes);
    const digests = await hashRanges(entries.map((entry) => ({ source: file, start: entry.dataOffset, length: entry.size })));
    const changed = entries.filter((entry, index) => entry.path !== 'SHA256SUMS' && digests[index] !== sums.get(entry.path));
    expect(changed.map((entry) => entry.path)).toEqual([victim.path]);
  }, 120_000);
});

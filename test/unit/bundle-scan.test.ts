/**
 * The header scan leaves no byte outside the files free: every header is exactly the one
 * the writer produces, the padding is zeros, and the archive ends with two zero blocks at
 * exactly the end of the file. Each malformed header is BUNDLE_FORMAT naming the entry and
 * its byte offset, never INTERNAL. Bundles are real ones from src/bundle/write.ts, then
 * changed a byte or a field at a time (with the header checksum recomputed, so only the
 * change itself can be what is caught).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pax } from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { AirlockError, type ErrorCode } from '../../src/base/errors.js';
import { fileModeFor, TAR_BLOCK } from '../../src/bundle/format.js';
import { bytesPayload } from '../../src/bundle/payload.js';
import { BundleReader, type BundleEntry } from '../../src/bundle/reader.js';
import { encodeFileHeader } from '../../src/bundle/tar-header.js';
import { writeBundle } from '../../src/bundle/write.js';
import { seeded } from '../support/key-encodings.js';
import { base256Field, fixHeaderChecksum } from '../support/tar-craft.js';

const MTIME = new Date('2026-01-01T00:00:00Z');
const LONG = `migrations/shop/${'deeply-nested/'.repeat(20)}V1__deep.sql`;
let dir: string;
let good: Buffer;
let entries: BundleEntry[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-scan-'));
  const file = join(dir, 'good.airlock');
  await writeBundle({
    file,
    manifest: Buffer.from('{"name":"x"}\n'),
    payload: [
      bytesPayload('configs/prod/app.yaml', Buffer.from('port: 8080\n')),
      bytesPayload('hooks/check.sh', Buffer.from('#!/bin/sh\nexit 0\n'), 0o755),
      bytesPayload(LONG, Buffer.from('select 1;\n')),
      bytesPayload('configs/prod/empty', Buffer.alloc(0)),
    ],
    signers: [],
    mtime: MTIME,
  });
  good = await readFile(file);
  const reader = await BundleReader.open(file);
  entries = [...reader.entries];
  await reader.close();
});

let counter = 0;
async function scan(data: Buffer): Promise<BundleEntry[]> {
  const file = join(dir, `variant-${counter++}.airlock`);
  await writeFile(file, data);
  const reader = await BundleReader.open(file);
  await reader.close();
  return [...reader.entries];
}

async function refusal(data: Buffer): Promise<AirlockError> {
  const error = await scan(data).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the scan accepted it').toBeInstanceOf(AirlockError);
  return error as AirlockError;
}

async function refused(data: Buffer, code: ErrorCode, message: RegExp | string): Promise<void> {
  const error = await refusal(data);
  expect(error.code, error.message).toBe(code);
  if (typeof message === 'string') expect(error.message, error.message).toContain(message);
  else expect(error.message, error.message).toMatch(message);
}

function entry(path: string): BundleEntry {
  return entries.find((e) => e.path === path)!;
}

/** Offset of the ustar block of `path`'s header (after its PAX header, if any). */
function ustarOf(path: string): number {
  return entry(path).dataOffset - TAR_BLOCK;
}

/** A copy of the good bundle with `bytes` written at `offset` in the ustar header of `path`. */
function withField(path: string, offset: number, bytes: Buffer | string): Buffer {
  const data = Buffer.from(good);
  const block = ustarOf(path);
  (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).copy(data, block + offset);
  fixHeaderChecksum(data, block);
  return data;
}

describe('the archive ends with two zero blocks and nothing else', () => {
  it('reads the good bundle, whose length is exactly its last entry plus 1024 zero bytes', async () => {
    expect((await scan(good)).map((e) => e.path)).toEqual(entries.map((e) => e.path));
    const last = entries.at(-1)!;
    expect(good.length).toBe(last.dataOffset + Math.ceil(last.size / TAR_BLOCK) * TAR_BLOCK + 2 * TAR_BLOCK);
  });

  const end = () => good.length - 2 * TAR_BLOCK;
  it.each([
    ['one junk byte', () => Buffer.concat([good, Buffer.from('x')])],
    ['one more zero block', () => Buffer.concat([good, Buffer.alloc(TAR_BLOCK)])],
    ['a hidden entry after the marker', () => Buffer.concat([good, encodeFileHeader('configs/prod/evil', 5, 0o644, MTIME), Buffer.from('evil\n'), Buffer.alloc(507), Buffer.alloc(1024)])],
  ])('refuses %s, naming the byte the bundle must end at', async (_, make) => {
    await refused(make(), 'BUNDLE_FORMAT', `after the end-of-archive marker at byte ${end()} (the bundle must end at byte ${good.length})`);
  });

  it('refuses a second archive appended (made by GNU tar)', async () => {
    await writeFile(join(dir, 'second.txt'), 'second archive\n');
    const second = execFileSync('tar', ['-cf', '-', '-C', dir, 'second.txt']);
    await refused(Buffer.concat([good, second]), 'BUNDLE_FORMAT', `${second.length} byte(s) after the end-of-archive marker at byte ${end()}`);
  });

  it('refuses an entry hidden between the two zero blocks', async () => {
    const data = Buffer.concat([good.subarray(0, end() + TAR_BLOCK), encodeFileHeader('x', 0, 0o644, MTIME), Buffer.alloc(1024)]);
    await refused(data, 'BUNDLE_FORMAT', `data at byte ${end() + TAR_BLOCK}, after a zero block`);
  });

  it('calls a bundle cut inside the marker truncated', async () => {
    await refused(good.subarray(0, good.length - 100), 'BUNDLE_TRUNCATED', 'inside the end-of-archive marker');
  });
});

describe('every header is the one the writer produces', () => {
  const config = 'configs/prod/app.yaml';
  const at = () => ustarOf(config);
  const octal = (n: number, size: number) => `${n.toString(8).padStart(size - 2, '0')} \0`;
  it.each([
    ['uid', 108, octal(1000, 8), 'uid field'],
    ['gid', 116, octal(1000, 8), 'gid field'],
    ['uname', 265, 'root', 'uname field'],
    ['gname', 297, 'root', 'gname field'],
    ['mode', 100, octal(0o600, 8), 'mode field'],
    ['magic (GNU tar\'s)', 257, 'ustar  \0', 'magic field'],
    ['version', 263, '01', 'version field'],
    ['devmajor', 329, octal(8, 8), 'devmajor field'],
    ['devminor', 337, octal(1, 8), 'devminor field'],
    ['linkname', 157, 'SHA256SUMS', 'linkname field'],
    ['type (old-style regular file)', 156, '\0', 'type field'],
    ['the padding inside the header block', 505, 'x', 'padding field'],
    ['mtime in base-256 form, same value', 136, base256Field(BigInt(MTIME.getTime() / 1000), 12), 'mtime field'],
    ['size in base-256 form, same value', 124, base256Field(11n, 12), 'size field'],
  ])('refuses a changed %s, naming the entry, its offset and the field', async (_, offset, bytes, field) => {
    await refused(withField(config, offset as number, bytes as string), 'BUNDLE_FORMAT', new RegExp(`"${config}" \\(entry at byte ${at()}\\): header is not the one airlock writes \\(${field} differs at byte \\d+`));
  });

  it('refuses the same path split into prefix and name where the writer does not split it', async () => {
    const data = withField(config, 0, Buffer.concat([Buffer.from('prod/app.yaml'), Buffer.alloc(100 - 13)]));
    Buffer.from('configs\0', 'latin1').copy(data, at() + 345);
    fixHeaderChecksum(data, at());
    await refused(data, 'BUNDLE_FORMAT', `"${config}" (entry at byte ${at()}): header is not the one airlock writes (name field differs`);
  });

  it('refuses the checksum written in another form with the same value', async () => {
    const data = Buffer.from(good);
    const block = at();
    const value = data.subarray(block + 148, block + 154).toString('latin1');
    data.write(`${value}\0 `, block + 148, 'latin1');
    await refused(data, 'BUNDLE_FORMAT', `header is not the one airlock writes (checksum field differs at byte ${block + 154}`);
  });

  it('refuses a hook without mode 0755 and a config with it', async () => {
    await refused(withField('hooks/check.sh', 100, octal(0o644, 8)), 'BUNDLE_FORMAT', /"hooks\/check\.sh" .*mode field differs.*mode 755/);
    await refused(withField(config, 100, octal(0o755, 8)), 'BUNDLE_FORMAT', /mode field differs.*mode 644/);
  });

  it.each([
    ['a negative base-256 size', 124, base256Field(-5n, 12), 'size field is not a byte count'],
    ['a base-256 size beyond 2^53', 124, base256Field(1n << 70n, 12), 'unreadable header'],
    ['a base-256 uid beyond 2^53', 108, base256Field(1n << 60n, 8), 'unreadable header'],
    ['a base-256 mtime beyond 2^53', 136, base256Field(1n << 80n, 12), 'unreadable header'],
    ['an octal size of garbage', 124, 'zzzzzzzzzzz\0', 'size field is not a byte count'],
  ])('%s is BUNDLE_FORMAT naming the entry and its offset, not INTERNAL', async (_, offset, bytes, message) => {
    const error = await refusal(withField(config, offset as number, bytes as string));
    expect(error.code, error.message).toBe('BUNDLE_FORMAT');
    expect(error.message).toContain(`${at()}`);
    expect(error.message).toContain(message);
  });

  it('refuses bytes after a file that are not zeros', async () => {
    const data = Buffer.from(good);
    const { dataOffset, size } = entry(config);
    data[dataOffset + size + 3] = 0x41;
    await refused(data, 'BUNDLE_FORMAT', `the padding after its data (bytes ${dataOffset + size} to ${dataOffset + 512}) is not zeros`);
  });

  it('refuses a PAX header the writer would not write: for a short path, or with an extra record', async () => {
    const { dataOffset, headerOffset, size } = entry(config);
    const needless = Buffer.concat([good.subarray(0, headerOffset), new Pax({ path: config, size, mtime: MTIME }).encode(), good.subarray(headerOffset)]);
    await refused(needless, 'BUNDLE_FORMAT', 'airlock writes a single ustar header block (no PAX header) for this entry, not 3 header block(s)');

    const long = entry(LONG);
    const pax = new Pax({ path: LONG, size: long.size, mtime: MTIME, comment: 'x' } as ConstructorParameters<typeof Pax>[0]).encode();
    const ustar = good.subarray(long.dataOffset - TAR_BLOCK, long.dataOffset);
    const extra = Buffer.concat([good.subarray(0, long.headerOffset), pax, ustar, good.subarray(long.dataOffset)]);
    await refused(extra, 'BUNDLE_FORMAT', `(entry at byte ${long.headerOffset}): header is not the one airlock writes (PAX header differs`);
    expect(dataOffset - headerOffset).toBe(TAR_BLOCK);
  });

  it('never accepts a changed byte in any header outside the name, size and mtime fields (random, many)', async () => {
    // Name, size and mtime are the values a header states; the scan re-derives the rest from
    // them. Those three are the verifier's business (digests, layout, `created`).
    const random = seeded(4711);
    const free = new Set<number>();
    for (let i = 0; i < 100; i++) free.add(i);
    for (let i = 124; i < 148; i++) free.add(i);
    const headers = entries.map((e) => e.dataOffset - TAR_BLOCK);
    for (let round = 0; round < 250; round++) {
      const block = headers[random(headers.length)]!;
      let offset = random(TAR_BLOCK);
      while (free.has(offset)) offset = random(TAR_BLOCK);
      const data = Buffer.from(good);
      data[block + offset] = (data[block + offset]! + 1 + random(255)) & 0xff;
      if (offset < 148 || offset >= 156) fixHeaderChecksum(data, block);
      const error = await refusal(data);
      expect(error.code, `byte ${offset} of the header at ${block}: ${error.message}`).not.toBe('INTERNAL');
    }
  });
});

describe('what the scan records', () => {
  it('gives each entry its header offset, the mode its path calls for, and its mtime', () => {
    expect(entry('hooks/check.sh')).toMatchObject({ mode: 0o755, mtime: MTIME });
    expect(entry(LONG).dataOffset - entry(LONG).headerOffset).toBe(3 * TAR_BLOCK);
    expect(entries.every((e) => e.mode === fileModeFor(e.path))).toBe(true);
  });
});

/** Durable writes from a verifying stream: the file is replaced only by bytes that hashed right. */
import { Readable } from 'node:stream';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileDurable } from '../../src/fs/durable.js';
import { sha256Hex, sha256Stream, verifiedStream } from '../../src/hash/digest.js';

const chunks = (...parts: string[]) => Readable.from(parts.map((part) => Buffer.from(part)));

describe('verifiedStream into writeFileDurable', () => {
  it('writes a stream whose bytes match, with the mode asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-durable-'));
    const file = join(dir, 'sub', 'app.conf');
    await writeFileDurable(file, verifiedStream(chunks('a=1\n', 'b=2\n'), sha256Hex('a=1\nb=2\n'), () => new Error('mismatch')), 0o640);
    expect(await readFile(file, 'utf8')).toBe('a=1\nb=2\n');
    expect(await sha256Stream(chunks('a=1\n', 'b=2\n'))).toBe(sha256Hex('a=1\nb=2\n'));
  });

  it('leaves the old file and no temp file when the bytes do not match', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-durable-'));
    const file = join(dir, 'app.conf');
    await writeFile(file, 'old\n');
    const write = writeFileDurable(file, verifiedStream(chunks('tampered\n'), sha256Hex('expected\n'), (actual) => new Error(`hashes to ${actual}`)), 0o644);
    await expect(write).rejects.toThrow(`hashes to ${sha256Hex('tampered\n')}`);
    expect(await readFile(file, 'utf8')).toBe('old\n');
    expect(await readdir(dir)).toEqual(['app.conf']);
  });
});

describe('writeFileDurable of text and of a leftover temp file', () => {
  it('writes text over 1 MiB whole, a surrogate pair across the slice boundary included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-durable-'));
    const file = join(dir, 'state.json');
    const text = `${'a'.repeat(1024 * 1024 - 1)}\u{1F512} and é after\n`;
    await writeFileDurable(file, text, 0o600);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('gives the mode asked for even to a temp file a killed run left with another mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-durable-'));
    const file = join(dir, 'app.conf');
    await writeFile(join(dir, '.app.conf.airlock-tmp'), 'half', { mode: 0o666 });
    await writeFileDurable(file, Buffer.from('whole\n'), 0o640);
    expect(await readFile(file, 'utf8')).toBe('whole\n');
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['app.conf']);
  });
});


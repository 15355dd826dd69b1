import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChecksums } from '../../src/bundle/checksums.js';
import { bytesPayload, type PayloadFile } from '../../src/bundle/payload.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle, type BundleSigner } from '../../src/bundle/write.js';

const fakeSigner: BundleSigner = {
  keyId: 'a'.repeat(64),
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nnot a key, the writer does not care\n-----END PUBLIC KEY-----\n',
  signatureLength: 32,
  sign: (checksums) => createHash('sha256').update(checksums).digest(),
};

async function sample(dir: string): Promise<PayloadFile[]> {
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  await writeFile(join(dir, 'big.bin'), big);
  return [
    bytesPayload('configs/prod/app.yaml', Buffer.from('port: 8080\n')),
    { path: 'blobs/sha256/big', size: big.length, mode: 0o644, source: { kind: 'file', path: join(dir, 'big.bin') } },
    bytesPayload('hooks/check.sh', Buffer.from('#!/bin/sh\nexit 0\n'), 0o755),
    bytesPayload(`migrations/shop/${'deeply-nested/'.repeat(25)}V1__deep.sql`, Buffer.from('select 1;\n')),
    bytesPayload('configs/empty', Buffer.alloc(0)),
  ];
}

describe('bundle writer and reader', () => {
  it('writes a tar that GNU tar lists in order and sha256sum verifies, and reads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-write-'));
    const file = join(dir, 'out.airlock');
    const written = await writeBundle({
      file,
      manifest: Buffer.from('{"name":"x"}\n'),
      payload: await sample(dir),
      signers: [fakeSigner],
      mtime: new Date(1_700_000_000_000),
    });

    const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.slice(0, 4)).toEqual([
      'SHA256SUMS',
      `signatures/${'a'.repeat(64)}.pem`,
      `signatures/${'a'.repeat(64)}.sig`,
      'airlock.json',
    ]);
    expect(listing.slice(4)).toEqual([...listing.slice(4)].sort());

    const out = join(dir, 'x');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', file, '-C', out]);
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' })).toContain('blobs/sha256/big: OK');
    expect(execFileSync('stat', ['-c', '%a', join(out, 'hooks/check.sh')], { encoding: 'utf8' }).trim()).toBe('755');

    const reader = await BundleReader.open(file);
    try {
      expect(reader.entries.map((e) => e.path)).toEqual(listing);
      expect(await reader.readFile('SHA256SUMS')).toEqual(written.checksums);
      expect(parseChecksums(written.checksums).size).toBe(6);
      const streamed: Buffer[] = [];
      for await (const chunk of reader.createReadStream('blobs/sha256/big')) streamed.push(chunk as Buffer);
      expect(Buffer.compare(Buffer.concat(streamed), await readFile(join(dir, 'big.bin')))).toBe(0);
      expect((await reader.readFile('configs/empty')).length).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it('gives byte-identical output for identical input, whatever the order given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-write-'));
    const payload = await sample(dir);
    const write = (name: string, files: PayloadFile[]) =>
      writeBundle({ file: join(dir, name), manifest: Buffer.from('{}'), payload: files, signers: [fakeSigner], mtime: new Date(0) });
    await write('a.airlock', payload);
    await write('b.airlock', [...payload].reverse());
    expect(Buffer.compare(await readFile(join(dir, 'a.airlock')), await readFile(join(dir, 'b.airlock')))).toBe(0);
  });

  it('refuses unsafe and duplicate payload paths before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-write-'));
    const attempt = (files: PayloadFile[]) =>
      writeBundle({ file: join(dir, 'bad.airlock'), manifest: Buffer.from('{}'), payload: files, signers: [], mtime: new Date(0) });
    await expect(attempt([bytesPayload('../etc/passwd', Buffer.from('x'))])).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(attempt([bytesPayload('a', Buffer.from('x')), bytesPayload('a', Buffer.from('y'))])).rejects.toMatchObject({ code: 'FILE_DUPLICATE' });
    await expect(attempt([bytesPayload('airlock.json', Buffer.from('x'))])).rejects.toMatchObject({ code: 'BUNDLE_FORMAT' });
    await expect(readFile(join(dir, 'bad.airlock'))).rejects.toThrow();
  });
});

describe('content check', () => {
  it('refuses an image blob whose content does not hash to its name, even when SHA256SUMS agrees with the content', async () => {
    const { checkContents } = await import('../../src/verify/check-contents.js');
    const { parseChecksums: parse } = await import('../../src/bundle/checksums.js');
    const dir = await mkdtemp(join(tmpdir(), 'airlock-blob-'));
    const content = Buffer.from('layer bytes');
    const honest = `blobs/sha256/${createHash('sha256').update(content).digest('hex')}`;
    const lying = `blobs/sha256/${'0'.repeat(64)}`;
    for (const [name, path, problems] of [
      ['honest', honest, 0],
      ['lying', lying, 1],
    ] as const) {
      const written = await writeBundle({ file: join(dir, `${name}.airlock`), manifest: Buffer.from('{}'), payload: [bytesPayload(path, content)], signers: [], mtime: new Date(0) });
      const reader = await BundleReader.open(written.file);
      try {
        const found = await checkContents(reader, parse(written.checksums));
        expect(found.map((p) => `${p.code} ${p.path}`)).toEqual(problems === 0 ? [] : [`DIGEST_MISMATCH ${lying}`]);
      } finally {
        await reader.close();
      }
    }
  });
});

/**
 * The progress bars on a real pseudo-terminal (util-linux `script`) and on a pipe: a bar with
 * counts, rate and time left, then one summary line, at a terminal; nothing under --json, on a
 * pipe, or for a step over before a bar helps.
 */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DRIVER = fileURLToPath(new URL('../support/progress-driver.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const command = (args: string[]) => [TSX, DRIVER, ...args].map((word) => `'${word}'`).join(' ');

/** What a terminal would show at the end: a return to column 1 starts the line again, other escape sequences dropped. */
function screen(raw: string): string[] {
  const plain = raw.replace(/\x1b\[1G/g, '\r').replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
  return plain.split(/\r?\n/).map((line) => line.split('\r').filter((part) => part !== '').at(-1) ?? '').filter((line) => line !== '');
}

async function atTerminal(args: string[]): Promise<string> {
  const result = await execa('script', ['-qec', command(args), '/dev/null'], { reject: false });
  expect(result.exitCode, String(result.stderr)).toBe(0);
  return String(result.stdout);
}

describe('progress bars', () => {
  it('draw counts, rate and time left at a terminal, then leave one summary line', async () => {
    const raw = await atTerminal(['items']);
    expect(raw).toMatch(/writing configs \[[█░]{30}\] \d+%  \d+\/2000 files  \d+ files\/s  [\d.]+ s left/);
    expect(screen(raw)).toEqual([expect.stringMatching(/^writing configs: 2000 files in [\d.]+ s \(\d+ files\/s\)$/), 'done']);
  });

  it('count the files of a bundle with many (verify, build) rather than their bytes', async () => {
    const raw = await atTerminal(['payload']);
    expect(raw).toMatch(/checking files \[[█░]{30}\] \d+%  \d+\/2000 files  \d+ files\/s/);
    expect(screen(raw)).toEqual([expect.stringMatching(/^checking files: 2000 files in [\d.]+ s \(\d+ files\/s\)$/), 'done']);
    expect(screen(await atTerminal(['payload', '--json']))).toEqual([]);
  });

  it('count bytes with their units', async () => {
    const raw = await atTerminal(['bytes']);
    expect(raw).toMatch(/pushing images \[[█░]{30}\] \d+%  [\d.]+ MiB\/64\.0 MiB  [\d.]+ MiB\/s/);
    expect(screen(raw)[0]).toMatch(/^pushing images: 64\.0 MiB in [\d.]+ s \([\d.]+ MiB\/s\)$/);
  });

  it('stay silent under --json, on a pipe, and for a step that is over at once', async () => {
    expect(screen(await atTerminal(['items', '--json']))).toEqual([]);
    expect(screen(await atTerminal(['quick']))).toEqual(['done']);
    const piped = await execa(TSX, [DRIVER, 'items'], { reject: false });
    expect(piped.exitCode).toBe(0);
    expect(String(piped.stderr)).toBe('');
    expect(String(piped.stdout)).toBe('done');
  });
});

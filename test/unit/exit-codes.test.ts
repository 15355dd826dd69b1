import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/base/errors.js';
import { exitCodeTable } from '../../src/exit-codes.js';

it('docs/EXIT-CODES.md lists exactly the codes and exit statuses the CLI uses', async () => {
  const doc = await readFile(new URL('../../docs/EXIT-CODES.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| (\d+) \| ([A-Z_]+) \|/gm)].map((m) => `${m[2]}=${m[1]}`).sort();
  const actual = exitCodeTable().map(([code, exit]) => `${code}=${exit}`).sort();
  expect(documented).toEqual(actual);
});

it('gives every failure class its own status, away from success', () => {
  for (const [, exit] of exitCodeTable()) expect(exit).toBeGreaterThan(0);
  const byStatus = new Map<number, number>();
  for (const [, exit] of exitCodeTable()) byStatus.set(exit, (byStatus.get(exit) ?? 0) + 1);
  expect(byStatus.size).toBeGreaterThan(40);
});

it('has an exit status for every error code, and no code it does not know', () => {
  expect(exitCodeTable().map(([code]) => code).sort()).toEqual([...ERROR_CODES].sort());
  expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
});

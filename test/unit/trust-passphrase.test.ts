import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejection } from '../support/errors.js';
import { readPassphrase } from '../../src/ui/passphrase.js';

const noTerminal = (env: NodeJS.ProcessEnv = {}) => ({ env, interactive: false });

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-pass-'));
  await writeFile(join(dir, 'pass'), text);
  return join(dir, 'pass');
}

describe('readPassphrase', () => {
  it('takes the first line of --passphrase-file, without its line ending, before the environment', async () => {
    const path = await file('  s3cret phrase \r\nsecond line\n');
    expect(await readPassphrase({ file: path, prompt: 'p' }, noTerminal({ AIRLOCK_PASSPHRASE: 'env' }))).toBe('  s3cret phrase ');
  });

  it('falls back to AIRLOCK_PASSPHRASE', async () => {
    expect(await readPassphrase({ prompt: 'p' }, noTerminal({ AIRLOCK_PASSPHRASE: 'from env' }))).toBe('from env');
  });

  it('without a terminal, says how to provide one, and never includes a passphrase', async () => {
    const error = await rejection(readPassphrase({ prompt: 'Passphrase for k.pem' }, noTerminal({ AIRLOCK_PASSPHRASE: '' })));
    expect(error.code).toBe('PASSPHRASE_REQUIRED');
    expect(error.message).toBe('Passphrase for k.pem: no terminal to ask on; use --passphrase-file or set AIRLOCK_PASSPHRASE');
  });

  it('refuses an empty first line and names a missing file', async () => {
    const empty = await file('\nsecret on line two\n');
    const error = await rejection(readPassphrase({ file: empty, prompt: 'p' }, noTerminal()));
    expect(error.code).toBe('PASSPHRASE_REQUIRED');
    expect(error.message).not.toContain('secret');
    const missing = await rejection(readPassphrase({ file: `${empty}.nope`, prompt: 'p' }, noTerminal()));
    expect(missing.code).toBe('INPUT_NOT_FOUND');
    expect(missing.message).toContain(`${empty}.nope`);
  });
});

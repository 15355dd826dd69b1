/**
 * Where a key passphrase comes from: --passphrase-file, else AIRLOCK_PASSPHRASE, else a
 * masked prompt when a person is at the terminal. A passphrase is never echoed, logged or
 * put in an error message.
 */
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';

export const PASSPHRASE_ENV = 'AIRLOCK_PASSPHRASE';

export interface PassphraseRequest {
  /** --passphrase-file: its first line, without the line ending. */
  file?: string;
  /** What the prompt asks, e.g. `Passphrase for keys/build.key.pem`. */
  prompt: string;
  /** Ask twice and insist on the same answer (new keys). */
  confirm?: boolean;
}

export interface PassphraseEnvironment {
  env: NodeJS.ProcessEnv;
  interactive: boolean;
}

const processEnvironment = (): PassphraseEnvironment => ({ env: process.env, interactive: process.stdin.isTTY === true });

export async function readPassphrase(request: PassphraseRequest, environment: PassphraseEnvironment = processEnvironment()): Promise<string> {
  if (request.file !== undefined) return fromFile(request.file);
  const fromEnv = environment.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!environment.interactive) {
    throw new AirlockError('PASSPHRASE_REQUIRED', `${request.prompt}: no terminal to ask on; use --passphrase-file or set ${PASSPHRASE_ENV}`);
  }
  const first = await ask(`${request.prompt}:`);
  if (first === '') throw new AirlockError('PASSPHRASE_REQUIRED', `${request.prompt}: empty passphrase`);
  if (request.confirm === true && (await ask('Repeat it:')) !== first) {
    throw new AirlockError('PASSPHRASE_REQUIRED', `${request.prompt}: the two entries differ`);
  }
  return first;
}

async function fromFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot read passphrase file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  const line = text.split('\n', 1)[0]?.replace(/\r$/, '') ?? '';
  if (line === '') throw new AirlockError('PASSPHRASE_REQUIRED', `${file}: the first line (the passphrase) is empty`);
  return line;
}

async function ask(message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  try {
    // stderr, so a prompt never mixes into --json output on stdout.
    return await password({ message, mask: '*' }, { output: process.stderr });
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new AirlockError('ABORTED', 'passphrase prompt cancelled');
    throw error;
  }
}

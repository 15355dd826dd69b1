/** Runs the bundled CLI (dist/airlock.mjs, built by scripts/build.mjs) as a user would. */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ErrorCode } from '../../src/base/errors.js';
import { exitCodeFor } from '../../src/exit-codes.js';

export const CLI = fileURLToPath(new URL('../../dist/airlock.mjs', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run node scripts/build.mjs (npm test does)`);
  const result = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    cwd: options.cwd,
    env: { AIRLOCK_PASSPHRASE: undefined, ...options.env },
    input: options.input ?? '',
    stripFinalNewline: false,
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * The CLI run in one directory with one environment (read when each command runs, so a
 * test may set them in beforeAll), with the two checks most CLI tests make.
 */
export function cliIn(context: () => { cwd: string; env: Record<string, string | undefined> }) {
  const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, context());
  return {
    cli,
    async ok(args: readonly string[]): Promise<CliResult> {
      const result = await cli(args);
      expect(result.code, result.stderr).toBe(0);
      return result;
    },
    /** Failed with `code` (and its exit status), saying `text`. */
    fails(result: CliResult, code: ErrorCode, text: string): void {
      expect(result.code, result.stderr).toBe(exitCodeFor(code));
      expect(result.stderr).toContain(`airlock: ${code}: `);
      expect(result.stderr).toContain(text);
    },
  };
}

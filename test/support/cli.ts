/** Runs the bundled CLI (dist/airlock.mjs, built by scripts/build.mjs) as a user would. */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

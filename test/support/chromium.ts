/**
 * Headless Chromium (Debian's package, installed by scripts/setup.sh) for tests that look at
 * a page: a screenshot, the DOM after parsing, and every console message it logged.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a closed network: no background fetches, no first-run, a fresh profile. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ChromiumRun {
  stdout: string;
  /** Lines the page logged to its console (errors, CSP violations, anything). */
  console: string[];
}

export async function runChromium(file: string, mode: ['--screenshot', string] | ['--dump-dom'], windowSize = '1200,2000'): Promise<ChromiumRun> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium package`);
  const profile = await mkdtemp(join(tmpdir(), 'airlock-chromium-'));
  try {
    const flag = mode[0] === '--screenshot' ? `--screenshot=${mode[1]}` : '--dump-dom';
    const result = await execa(
      CHROMIUM,
      [...FLAGS, `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', flag, `--window-size=${windowSize}`, pathToFileURL(file).href],
      { reject: false, timeout: 60_000 },
    );
    if (result.exitCode !== 0) throw new Error(`chromium exited ${result.exitCode}: ${String(result.stderr).slice(-2000)}`);
    const console = String(result.stderr)
      .split('\n')
      .filter((line) => /:CONSOLE[:(]/.test(line) || /Uncaught/.test(line));
    return { stdout: String(result.stdout), console };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The CLI in a shell pipeline whose reader stops early (`| head`): no EPIPE stack trace, its own exit status. */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';

describe('airlock | head', () => {
  it('exits quietly when the reader closes the pipe', async () => {
    // Enough help text that the writes outlast `head -1`'s read.
    const script = `set -o pipefail; for verb in build verify inspect install media keys; do node ${JSON.stringify(CLI)} $verb --help; done | head -1`;
    const result = await execa('bash', ['-c', script], { reject: false });
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: airlock build/);
  });
});

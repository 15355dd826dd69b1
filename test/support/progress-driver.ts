/**
 * Drives the progress bars as a long step does, for test/unit/progress.test.ts to run under a
 * pseudo-terminal (`script`) or a pipe: `tsx progress-driver.ts items|bytes|quick|payload [--json]`.
 */
import { payloadProgress } from '../../src/commands/payload-progress.js';
import { byteProgress, itemProgress } from '../../src/ui/progress.js';
import { consoleOutput } from '../../src/ui/output.js';

const [kind, flag] = process.argv.slice(2);
const output = consoleOutput({ json: flag === '--json' });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (kind === 'items' || kind === 'quick') {
  // 2,000 files in about 1 s (quick: in a few ms, before a bar is worth showing).
  const progress = itemProgress(output, 'writing configs', 2000);
  for (let i = 0; i < 40; i++) {
    progress.add(50);
    if (kind === 'items') await pause(25);
  }
  progress.stop();
} else if (kind === 'payload') {
  // What verify reports while it hashes 2,000 small files (about 1 s): running totals, as checkContents gives them.
  const progress = payloadProgress(output, { files: 'checking files', bytes: 'checking bundle' });
  for (let files = 50; files <= 2000; files += 50) {
    progress.at(files * 1000, 2000 * 1000, files, 2000);
    await pause(25);
  }
  progress.stop();
} else {
  const progress = byteProgress(output, 'pushing images', 64 * 1024 * 1024);
  for (let i = 0; i < 32; i++) {
    progress.add(2 * 1024 * 1024);
    await pause(25);
  }
  progress.stop();
}
output.say('done');

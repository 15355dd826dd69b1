/**
 * TEST-ONLY crash hook. With AIRLOCK_TEST_CRASH_AT=<point> the process SIGKILLs itself when
 * it reaches that named point (a journal record such as `done:config:app.conf`, or
 * `write:<dest>` between a config's flushed temp file and its rename), which is how the
 * end-to-end tests prove that `kill -9` at any point followed by a re-run gives the same
 * site as an uninterrupted install. AIRLOCK_TEST_CRASH_LIST=<file> appends every point
 * reached, so a test can enumerate them. Never set either in production (docs/INSTALL.md).
 */
import { appendFileSync } from 'node:fs';

export function crashPoint(point: string): void {
  const list = process.env.AIRLOCK_TEST_CRASH_LIST;
  if (list) appendFileSync(list, `${point}\n`);
  if (process.env.AIRLOCK_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

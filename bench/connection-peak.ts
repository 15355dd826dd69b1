/**
 * The most TCP connections open at once to a port on loopback while a contender runs, sampled
 * from /proc/net/tcp every few milliseconds (a connection shorter than that may be missed: the
 * peak is a lower bound, good enough to show a bound holds or a tool opens dozens).
 * Counted on the client side: established sockets whose remote end is the port.
 */
import { readFileSync } from 'node:fs';

const SAMPLE_EVERY_MS = 5;
const ESTABLISHED = '01';

export interface ConnectionPeak {
  start(): void;
  stop(): void;
  /** The highest count over every run so far. */
  peak(): number;
}

export function connectionPeak(port: number): ConnectionPeak {
  const remote = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let timer: NodeJS.Timeout | undefined;
  let highest = 0;
  const sample = () => {
    let open = 0;
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields[2]?.endsWith(remote) && fields[3] === ESTABLISHED) open++;
      }
    }
    highest = Math.max(highest, open);
  };
  return {
    start() {
      timer = setInterval(sample, SAMPLE_EVERY_MS);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    peak: () => highest,
  };
}

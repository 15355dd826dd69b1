/** skopeo as a contender: one copy per image, run in sequence in one shell, as a user would script it. */
import type { Command } from './measure.js';

/** `args` gets each ref, the image's short name (`.../app1:1` -> `app1`) and its position. */
export function skopeoEach(refs: string[], args: (ref: string, tag: string, index: number) => string[], makeDir?: string): Command {
  const lines = refs.map((ref, index) => ['skopeo', 'copy', '-q', ...args(ref, ref.split('/').at(-1)!.split(':')[0]!, index)].map(shellQuote).join(' '));
  return { argv: ['bash', '-c', ['set -euo pipefail', ...(makeDir ? [`mkdir -p ${shellQuote(makeDir)}`] : []), ...lines].join('\n')] };
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

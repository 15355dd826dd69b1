/**
 * The `Range` request header for one blob (RFC 9110 §14): a single `bytes=` range, open-ended
 * (`500-`) or a suffix (`-500`). Several ranges, or a header that does not parse, are ignored
 * and the whole blob is sent, as the RFC allows; a range past the end cannot be satisfied.
 */
import type { ByteRange } from './content.js';

export type RangeRequest = { kind: 'whole' } | { kind: 'part'; range: ByteRange } | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

export function parseRange(header: string | undefined, size: number): RangeRequest {
  const match = header === undefined ? null : SINGLE.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', range: { start, end: Math.min(end, size - 1) } };
}

/** Whether a range asks for every byte (it is then served, and checked, like the whole blob). */
export function coversAll(range: ByteRange, size: number): boolean {
  return range.start === 0 && range.end === size - 1;
}

/**
 * The two pieces of `airlock serve` arithmetic where off-by-one bugs live, checked on many
 * random inputs against models stated differently from the code: Range (RFC 9110 §14.1.2) as a
 * set of byte positions, and pagination as "walking every page gives the list, once, in order".
 */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paginate } from '../../src/serve/listing.js';
import { parseRange } from '../../src/serve/range.js';

/** The positions a single range selects from a representation of `size` bytes. */
function selected(size: number, first: number | undefined, last: number | undefined): number[] {
  const positions: number[] = [];
  for (let i = 0; i < size; i++) {
    if (first === undefined ? i >= size - last! : i >= first && (last === undefined || i <= last)) positions.push(i);
  }
  return positions;
}

describe('Range: bytes=first-last, first-, -suffix', () => {
  it('selects exactly the positions RFC 9110 gives, and is unsatisfiable exactly when none remain', () => {
    for (let round = 0; round < 5000; round++) {
      const size = randomInt(0, 40);
      const form = randomInt(0, 3);
      const first = form === 2 ? undefined : randomInt(0, 50);
      const last = form === 1 ? undefined : form === 2 ? randomInt(0, 50) : first! + randomInt(0, 50);
      const header = `bytes=${first ?? ''}-${last ?? ''}`;
      const expected = selected(size, first, last);
      const parsed = parseRange(header, size);
      if (expected.length === 0) {
        expect(parsed, `${header} of ${size}`).toEqual({ kind: 'unsatisfiable' });
        continue;
      }
      expect(parsed.kind, `${header} of ${size}`).toBe('part');
      if (parsed.kind !== 'part') continue;
      expect([parsed.range.start, parsed.range.end], `${header} of ${size}`).toEqual([expected[0], expected.at(-1)]);
    }
  });

  it('ignores what it cannot honour (no header, several ranges, reversed, other units, junk): the whole blob', () => {
    for (const header of [undefined, 'bytes=0-1,5-6', 'bytes=9-3', 'items=0-5', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes 0-5', '']) {
      expect(parseRange(header, 100), String(header)).toEqual({ kind: 'whole' });
    }
  });
});

describe('pagination: n, last and the next page', () => {
  it('walking the pages from the start yields every item once, in order, each page at most n long', () => {
    for (let round = 0; round < 2000; round++) {
      const items = [...new Set(Array.from({ length: randomInt(0, 30) }, () => `t${randomInt(0, 200)}`))].sort();
      const n = randomInt(1, 8);
      const walked: string[] = [];
      let last: string | undefined;
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThanOrEqual(items.length);
        const page = paginate(items, n, last);
        expect(page.items.length).toBeLessThanOrEqual(n);
        walked.push(...page.items);
        if (page.next === undefined) break;
        // "the response MUST include <int> results" unless it is the last page
        expect(page.items.length).toBe(n);
        last = page.next;
      }
      expect(walked).toEqual(items);
    }
  });

  it('last need not be an item: the page starts after where it would sort; n=0 is empty without a next page', () => {
    const items = ['a', 'c', 'e'];
    expect(paginate(items, undefined, 'b')).toEqual({ items: ['c', 'e'] });
    expect(paginate(items, undefined, 'z')).toEqual({ items: [] });
    expect(paginate(items, 0, undefined)).toEqual({ items: [] });
    expect(paginate(items, 1, 'a')).toEqual({ items: ['c'], next: 'c' });
  });
});

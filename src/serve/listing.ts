/**
 * `GET /v2/<name>/tags/list` and `GET /v2/_catalog`, with the spec's pagination: `n` caps the
 * answer, `last` starts after that value, and a `Link: <...>; rel="next"` header says where the
 * rest begins. Lists are in byte-wise ("ASCIIbetical") order.
 */
import { comparePaths } from '../bundle/format.js';
import type { Catalog } from './catalog.js';
import { repositoryOf } from './context.js';
import { OciError } from './errors.js';
import type { Exchange } from './exchange.js';

export interface Page {
  items: string[];
  /** The `last` value of the next page, when there is one. */
  next?: string;
}

/** One page of a sorted list (pure). */
export function paginate(sorted: readonly string[], n: number | undefined, last: string | undefined): Page {
  const from = last === undefined ? 0 : sorted.findIndex((item) => comparePaths(item, last) > 0);
  const rest = from < 0 ? [] : sorted.slice(from);
  if (n === undefined || rest.length <= n) return { items: rest };
  const items = rest.slice(0, n);
  return n === 0 ? { items } : { items, next: items.at(-1)! };
}

function pageOf(exchange: Exchange, sorted: readonly string[]): Page {
  const query = exchange.url.searchParams;
  const text = query.get('n');
  if (text !== null && !/^\d+$/.test(text)) throw new OciError(400, 'UNSUPPORTED', `n=${JSON.stringify(text)}: expected a whole number of entries`);
  return paginate(sorted, text === null ? undefined : Number(text), query.get('last') ?? undefined);
}

function sendPage(exchange: Exchange, page: Page, body: unknown): void {
  const data = Buffer.from(`${JSON.stringify(body)}\n`);
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': data.length };
  if (page.next !== undefined) {
    const next = new URLSearchParams({ n: exchange.url.searchParams.get('n')!, last: page.next });
    headers.Link = `<${exchange.url.pathname}?${next.toString()}>; rel="next"`;
  }
  exchange.send(200, headers, data);
}

export function listTags(exchange: Exchange, catalog: Catalog, name: string): void {
  const repository = repositoryOf(catalog, name);
  const page = pageOf(exchange, [...repository.tags.keys()].sort(comparePaths));
  sendPage(exchange, page, { name, tags: page.items });
}

export function listRepositories(exchange: Exchange, catalog: Catalog): void {
  const page = pageOf(exchange, [...catalog.repositories.keys()].sort(comparePaths));
  sendPage(exchange, page, { repositories: page.items });
}

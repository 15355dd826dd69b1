/**
 * `GET` / `HEAD /v2/<name>/blobs/<digest>`, with `Range`. Blobs stream straight from the
 * bundle's byte ranges (across volumes) or the layout's files, 256 KiB at a time under
 * backpressure, so memory stays flat however large the blob and however many clients.
 * Every whole blob is hashed as it streams and its last chunk held back until it matched
 * (checked-stream.ts). A part of a blob cannot be judged alone: the first request for a
 * part hashes the whole blob once (concurrent requests share that pass) before any byte goes out.
 */
import type { Expected } from '../oci/digest.js';
import { HoldBackVerifyingStream } from './checked-stream.js';
import { repositoryOf, type ServeContext } from './context.js';
import { blobUnknown } from './errors.js';
import type { Exchange } from './exchange.js';
import { coversAll, parseRange } from './range.js';
import { checkDigest } from './router.js';

export async function serveBlob(exchange: Exchange, context: ServeContext, name: string, value: string): Promise<void> {
  const repository = repositoryOf(context.catalog, name);
  const digest = checkDigest(value);
  if (!repository.blobs.has(digest)) throw blobUnknown(name, digest);
  const size = context.catalog.sizes.get(digest)!;
  const expected: Expected = { digest, size, what: `${context.content.name}: ${name}` };
  const headers = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, ETag: `"${digest}"`, 'Accept-Ranges': 'bytes' };
  const range = parseRange(exchange.request.headers.range, size);

  if (range.kind === 'unsatisfiable') {
    exchange.send(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    return;
  }
  if (range.kind === 'part' && !coversAll(range.range, size)) {
    const { start, end } = range.range;
    const partHeaders = { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 };
    if (!exchange.head) {
      try {
        await context.checks.ensure(expected);
      } catch (caught) {
        const error = caught instanceof Error ? caught : new Error(String(caught));
        context.onFault(error, name, digest);
        exchange.cut(error.message);
        return;
      }
    }
    const fault = await exchange.stream(206, partHeaders, context.content.open(digest, range.range));
    if (fault) context.onFault(fault, name, digest);
    return;
  }

  const status = range.kind === 'part' ? 206 : 200;
  const wholeHeaders = { ...headers, 'Content-Length': size, ...(status === 206 ? { 'Content-Range': `bytes 0-${size - 1}/${size}` } : {}) };
  if (exchange.head) {
    exchange.send(status, wholeHeaders);
    return;
  }
  const fault = await exchange.stream(status, wholeHeaders, context.content.open(digest), new HoldBackVerifyingStream(expected));
  if (fault) context.onFault(fault, name, digest);
  else if (exchange.failure === undefined) context.checks.passedOnce(digest);
}

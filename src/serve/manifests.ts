/**
 * `GET` / `HEAD /v2/<name>/manifests/<tag-or-digest>`. A manifest is served as stored, with the
 * media type it declares as `Content-Type` whatever the `Accept` header (its bytes are what the
 * digest pins; converting them would change it). It is read again for every GET and checked
 * against its digest before a byte goes out; one that no longer matches is not sent at all.
 */
import { verifyBytes } from '../oci/digest.js';
import { repositoryOf, type ServeContext } from './context.js';
import { manifestUnknown } from './errors.js';
import type { Exchange } from './exchange.js';
import { checkDigest, isTag } from './router.js';

export async function serveManifest(exchange: Exchange, context: ServeContext, name: string, reference: string): Promise<void> {
  const repository = repositoryOf(context.catalog, name);
  const digest = reference.includes(':') ? checkDigest(reference) : isTag(reference) ? repository.tags.get(reference) : undefined;
  if (digest === undefined || !repository.manifests.has(digest)) throw manifestUnknown(name, reference);
  const { mediaType, size } = context.catalog.manifests.get(digest)!;
  const headers = { 'Content-Type': mediaType, 'Content-Length': size, 'Docker-Content-Digest': digest, ETag: `"${digest}"` };
  if (exchange.head) {
    exchange.send(200, headers);
    return;
  }
  let bytes: Buffer;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of context.content.open(digest) as AsyncIterable<Buffer>) chunks.push(chunk);
    bytes = Buffer.concat(chunks);
    verifyBytes(bytes, { digest, size, what: `${context.content.name}: ${name}` });
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught));
    context.onFault(error, name, digest);
    exchange.cut(error.message);
    return;
  }
  exchange.send(200, headers, bytes);
}

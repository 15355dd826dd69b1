/**
 * `GET /v2/<name>/referrers/<digest>[?artifactType=...]` (distribution-spec 1.1): an image index
 * of the manifests in the repository whose `subject` is that digest, each with its artifactType
 * and annotations. An unknown digest has no referrers, which is an empty index, never a 404.
 */
import { OCI_INDEX } from '../oci/media-types.js';
import { comparePaths } from '../bundle/format.js';
import type { Catalog } from './catalog.js';
import { repositoryOf } from './context.js';
import type { Exchange } from './exchange.js';
import { checkDigest } from './router.js';

export function listReferrers(exchange: Exchange, catalog: Catalog, name: string, value: string): void {
  const repository = repositoryOf(catalog, name);
  const digest = checkDigest(value);
  const artifactType = exchange.url.searchParams.get('artifactType');
  const all = repository.referrers.get(digest) ?? [];
  const manifests = (artifactType === null ? all : all.filter((referrer) => referrer.artifactType === artifactType)).sort((a, b) => comparePaths(a.digest, b.digest));
  const body = Buffer.from(`${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })}\n`);
  exchange.send(200, { 'Content-Type': OCI_INDEX, 'Content-Length': body.length, ...(artifactType === null ? {} : { 'OCI-Filters-Applied': 'artifactType' }) }, body);
}

/** Manifests and indexes on a registry: fetched and pushed as exact bytes, so digests never change. */
import { AirlockError } from '../../base/errors.js';
import { sha256Digest } from '../../oci/digest.js';
import { MANIFEST_ACCEPT } from '../../oci/media-types.js';
import { repositoryScope } from './auth.js';
import { errorDetail, expectStatus, readBody, type RegistryTransport } from './transport.js';

/** distribution refuses manifests over 4 MiB; so do we, rather than buffer something unbounded. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  /** Content-Type as served; the document's own mediaType field takes precedence when parsed. */
  contentType: string | undefined;
}

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

/** GET by tag or digest. A digest reference is checked against the bytes; so is the registry's Docker-Content-Digest. */
export function getManifest(transport: RegistryTransport, repository: string, reference: string, what: string): Promise<FetchedManifest> {
  return transport.retrying(async () => {
    const response = await transport.request({
      method: 'GET',
      url: manifestPath(repository, reference),
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(repository, false)],
    });
    if (response.status === 404) {
      throw new AirlockError('IMAGE_NOT_FOUND', `${what}: manifest ${reference} not found in registry ${transport.registry}${await errorDetail(response.body)}`);
    }
    await expectStatus(response, [200], `${what}: GET manifest ${reference}`, transport.registry);
    const bytes = await readBody(response.body, MANIFEST_LIMIT, `${what}: manifest ${reference}`);
    const digest = sha256Digest(bytes);
    const served = response.headers['docker-content-digest'];
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new AirlockError('IMAGE_INVALID', `${what}: manifest ${reference} from registry ${transport.registry} hashes to ${digest}`);
    }
    if (typeof served === 'string' && served.startsWith('sha256:') && served !== digest) {
      throw new AirlockError('IMAGE_INVALID', `${what}: registry ${transport.registry} says manifest ${reference} is ${served}, but its bytes hash to ${digest}`);
    }
    const contentType = response.headers['content-type']?.split(';')[0]?.trim();
    return { bytes, digest, contentType };
  });
}

export function manifestExists(transport: RegistryTransport, repository: string, digest: string): Promise<boolean> {
  return transport.retrying(async () => {
    const response = await transport.request({
      method: 'HEAD',
      url: manifestPath(repository, digest),
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(repository, true)],
    });
    response.body.resume();
    if (response.status === 404) return false;
    await expectStatus(response, [200], `HEAD manifest ${digest} in ${repository}`, transport.registry);
    return true;
  });
}

/** PUT by digest or tag; the registry must file it under the digest of the bytes we sent. */
export function putManifest(
  transport: RegistryTransport,
  repository: string,
  reference: string,
  manifest: { bytes: Buffer; digest: string; mediaType: string },
  what: string,
): Promise<void> {
  return transport.retrying(async () => {
    const response = await transport.request({
      method: 'PUT',
      url: manifestPath(repository, reference),
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      scopes: [repositoryScope(repository, true)],
    });
    await expectStatus(response, [201], `${what}: PUT manifest ${reference} to ${repository}`, transport.registry);
    response.body.resume();
    const stored = response.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored !== manifest.digest) {
      throw new AirlockError('REGISTRY_ERROR', `${what}: registry ${transport.registry} stored manifest ${manifest.digest} as ${stored}`);
    }
  });
}

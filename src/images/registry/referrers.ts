/**
 * Artifacts attached to a manifest on a registry: the OCI 1.1 referrers API where the registry
 * has it, and manifests that may or may not exist under a tag (the referrers tag fallback,
 * cosign's `sha256-<hex>.sig`). A registry without the API (CNCF distribution 2.x) answers 404.
 */
import { isAirlockError } from '../../base/errors.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import { imageIndexSchema, type Descriptor } from '../../oci/schema.js';
import { parseJson } from '../../base/validate.js';
import { repositoryScope } from './auth.js';
import { getManifest, MANIFEST_LIMIT, type FetchedManifest } from './manifests.js';
import { expectStatus, readBody, type RegistryTransport } from './transport.js';

/**
 * Registries found without the API in this run: a registry that has it answers 200 (an empty
 * index when nothing refers to the digest), so one refusal holds for every later image.
 */
const withoutApi = new WeakSet<RegistryTransport>();

/** The referrers of `digest`, or undefined when the registry has no referrers API. */
export function getReferrers(transport: RegistryTransport, repository: string, digest: string, what: string): Promise<Descriptor[] | undefined> {
  if (withoutApi.has(transport)) return Promise.resolve(undefined);
  return transport.retrying(async () => {
    const response = await transport.request({
      method: 'GET',
      url: `/v2/${repository}/referrers/${digest}`,
      headers: { accept: OCI_INDEX },
      scopes: [repositoryScope(repository, false)],
    });
    // 404 (no such route), 400 or 405: the API is not there; the caller falls back to the tag schema.
    if ([400, 404, 405].includes(response.status)) {
      response.body.resume();
      withoutApi.add(transport);
      return undefined;
    }
    await expectStatus(response, [200], `${what}: GET referrers of ${digest}`, transport.registry);
    const bytes = await readBody(response.body, MANIFEST_LIMIT, `${what}: referrers of ${digest}`);
    return parseJson(imageIndexSchema, bytes, `${what}: referrers of ${digest} from registry ${transport.registry}`, 'IMAGE_INVALID').manifests;
  });
}

const withApi = new WeakSet<RegistryTransport>();

/** Whether the registry has the referrers API: asked once per run and registry, whichever way it answers. */
export async function hasReferrersApi(transport: RegistryTransport, repository: string, digest: string, what: string): Promise<boolean> {
  if (withApi.has(transport)) return true;
  const listed = await getReferrers(transport, repository, digest, what);
  if (listed !== undefined) withApi.add(transport);
  return listed !== undefined;
}

/** The manifest under `tag`, or undefined when there is none. */
export async function findManifest(transport: RegistryTransport, repository: string, tag: string, what: string): Promise<FetchedManifest | undefined> {
  try {
    return await getManifest(transport, repository, tag, what);
  } catch (error) {
    if (isAirlockError(error, 'IMAGE_NOT_FOUND')) return undefined;
    throw error;
  }
}

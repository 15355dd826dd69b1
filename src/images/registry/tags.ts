/**
 * A repository's tags, listed (GET /v2/<name>/tags/list, following `Link: <...>; rel="next"`), so
 * that looking for tags that usually do not exist (cosign's `sha256-<hex>.sig`, the referrers tag)
 * costs one request per repository instead of one 404 per tag and image. Undefined when the
 * registry will not list them or the list is too long to be worth it: the caller then asks per tag.
 */
import { parseJson } from '../../base/validate.js';
import { z } from 'zod';
import { repositoryScope } from './auth.js';
import { readBody, type RegistryTransport } from './transport.js';

const PAGE = 1000;
const MAX_PAGES = 10;
const LIST_LIMIT = 4 * 1024 * 1024;
const tagListSchema = z.object({ tags: z.array(z.string()).nullable().optional() });

export async function listTags(transport: RegistryTransport, repository: string, what: string): Promise<ReadonlySet<string> | undefined> {
  const tags = new Set<string>();
  let url: string | undefined = `/v2/${repository}/tags/list?n=${PAGE}`;
  for (let page = 0; url !== undefined; page++) {
    if (page === MAX_PAGES) return undefined;
    const current: string = url;
    const next = await transport.retrying(async () => {
      const response = await transport.request({ method: 'GET', url: current, scopes: [repositoryScope(repository, false)] });
      if (response.status !== 200) {
        response.body.resume();
        return null;
      }
      const body = await readBody(response.body, LIST_LIMIT, `${what}: tags of ${repository}`);
      for (const tag of parseJson(tagListSchema, body, `${what}: tags of ${repository} from registry ${transport.registry}`, 'IMAGE_INVALID').tags ?? []) tags.add(tag);
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(response.headers.link ?? ''));
      return link ? transport.resolve(link[1]!, response.url).href : undefined;
    });
    if (next === null) return undefined;
    url = next;
  }
  return tags;
}

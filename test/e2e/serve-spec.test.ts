/**
 * The pull side of the OCI distribution spec (v1.1, spec.md "Pull", "Content Discovery", "API"),
 * requirement by requirement, with curl as the client; each test is named after the spec's words.
 * Writes (push, delete) are not offered: they answer 405 UNSUPPORTED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../support/images.js';
import { makeServeFixture, SBOM_CONFIG_TYPE, SHOP, SIGNATURE_TYPE, type ServeFixture } from '../support/serve-fixture.js';
import { curl, json, startServe, type HttpAnswer, type ServeProcess } from '../support/serve.js';

let fixture: ServeFixture;
let server: ServeProcess;
let v2: string;
/** A layer of app1 (shared base layer, so also in app2) and a layer only app2 has. */
let app1Layer: string;
let app2Only: string;

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

beforeAll(async () => {
  fixture = await makeServeFixture();
  server = await startServe([fixture.bundle, '--trust', fixture.fixture.trust]);
  v2 = `${server.url}/v2`;
  app1Layer = fixture.images.baseLayerDigest;
  app2Only = fixture.images.app2.blobs.find((digest) => !fixture.images.app1.blobs.includes(digest) && digest !== fixture.images.app2.descriptor.digest)!;
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function expectError(answer: HttpAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json');
  const body = json(answer) as { errors: Array<{ code: string; message: string }> };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  expect(body.errors[0]!.message.length).toBeGreaterThan(0);
  // code: "MUST be a unique identifier, containing only uppercase alphabetic characters and underscores"
  expect(body.errors[0]!.code).toMatch(/^[A-Z_]+$/);
}

describe('determining support (end-1)', () => {
  it('GET /v2/: "If the response is 200 OK, then the registry implements this specification"', async () => {
    const answer = await curl(`${v2}/`);
    expect(answer.status).toBe(200);
    expect(answer.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });
});

describe('pulling manifests (end-3)', () => {
  it('"A GET request to an existing manifest URL MUST provide the expected manifest, with a response code that MUST be 200 OK" (by tag)', async () => {
    const answer = await curl(`${v2}/shop/app1/manifests/1.0`, ['-H', `Accept: ${MANIFEST}`]);
    expect(answer.status).toBe(200);
    expect(sha256(answer.body)).toBe(fixture.images.app1.descriptor.digest);
    // "A successful response MUST contain the digest of the uploaded blob in the header Docker-Content-Digest."
    expect(answer.headers['docker-content-digest']).toBe(fixture.images.app1.descriptor.digest);
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
  });

  it('"<tag-or-digest> MUST be either (a) the digest of the manifest or (b) a tag": by digest, the same bytes', async () => {
    const { digest } = fixture.images.multi.descriptor;
    const answer = await curl(`${v2}/shop/multi/manifests/${digest}`);
    expect(answer.status).toBe(200);
    expect(sha256(answer.body)).toBe(digest);
    expect(answer.headers['docker-content-digest']).toBe(digest);
  });

  it('"the Content-Type header will indicate the type of the returned manifest", matching its mediaType field, without parameters', async () => {
    for (const [path, type] of [
      ['shop/app1/manifests/1.0', MANIFEST],
      ['shop/multi/manifests/1.0', INDEX],
    ] as const) {
      const answer = await curl(`${v2}/${path}`);
      expect(answer.headers['content-type']).toBe(type);
      expect((json(answer) as { mediaType: string }).mediaType).toBe(type);
    }
  });

  it('"If the manifest is not found in the repository, the response code MUST be 404 Not Found" (MANIFEST_UNKNOWN), by tag and by digest', async () => {
    expectError(await curl(`${v2}/shop/app1/manifests/no-such-tag`), 404, 'MANIFEST_UNKNOWN');
    expectError(await curl(`${v2}/shop/app1/manifests/sha256:${'0'.repeat(64)}`), 404, 'MANIFEST_UNKNOWN');
    // app2's manifest exists, but not in this repository
    expectError(await curl(`${v2}/shop/app1/manifests/${fixture.images.app2.descriptor.digest}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('a repository the registry does not hold: 404 NAME_UNKNOWN ("repository name not known to registry")', async () => {
    expectError(await curl(`${v2}/shop/nothing/manifests/1.0`), 404, 'NAME_UNKNOWN');
  });

  it('an invalid digest (the conformance suite\'s "sha256:baddigeststring") is 400, DIGEST_INVALID', async () => {
    expectError(await curl(`${v2}/shop/app1/manifests/sha256:baddigeststring!`), 400, 'DIGEST_INVALID');
  });

  it('"<name> MUST match the following regular expression": a name that does not is 400 NAME_INVALID', async () => {
    expectError(await curl(`${v2}/Shop/App1/manifests/1.0`), 400, 'NAME_INVALID');
  });
});

describe('pulling blobs (end-2)', () => {
  it('"A GET request to an existing blob URL MUST provide the expected blob, with a response code that MUST be 200 OK", its digest in Docker-Content-Digest', async () => {
    const answer = await curl(`${v2}/shop/app1/blobs/${app1Layer}`);
    expect(answer.status).toBe(200);
    expect(sha256(answer.body)).toBe(app1Layer);
    expect(answer.headers['docker-content-digest']).toBe(app1Layer);
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
  });

  it('"If the blob is not found in the repository, the response code MUST be 404 Not Found" (BLOB_UNKNOWN), also for a blob of another repository', async () => {
    expectError(await curl(`${v2}/shop/app1/blobs/sha256:${'1'.repeat(64)}`), 404, 'BLOB_UNKNOWN');
    expectError(await curl(`${v2}/shop/app1/blobs/${app2Only}`), 404, 'BLOB_UNKNOWN');
    expect((await curl(`${v2}/shop/app2/blobs/${app2Only}`)).status).toBe(200);
    expectError(await curl(`${v2}/shop/app1/blobs/not-a-digest`), 400, 'DIGEST_INVALID');
  });

  describe('"A registry SHOULD support the Range request header in accordance with RFC 9110"', () => {
    let whole: Buffer;
    beforeAll(async () => {
      whole = (await curl(`${v2}/shop/app1/blobs/${app1Layer}`)).body;
    });

    it('bytes=first-last: 206 Partial Content with exactly those bytes and Content-Range', async () => {
      const answer = await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-H', 'Range: bytes=100-1099']);
      expect(answer.status).toBe(206);
      expect(answer.headers['content-range']).toBe(`bytes 100-1099/${whole.length}`);
      expect(answer.body.equals(whole.subarray(100, 1100))).toBe(true);
    });

    it('bytes=first- (to the end) and bytes=-suffix (the last bytes)', async () => {
      const tail = await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-H', `Range: bytes=${whole.length - 10}-`]);
      expect(tail.status).toBe(206);
      expect(tail.body.equals(whole.subarray(whole.length - 10))).toBe(true);
      const suffix = await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-H', 'Range: bytes=-500']);
      expect(suffix.status).toBe(206);
      expect(suffix.headers['content-range']).toBe(`bytes ${whole.length - 500}-${whole.length - 1}/${whole.length}`);
      expect(suffix.body.equals(whole.subarray(whole.length - 500))).toBe(true);
    });

    it('a range that starts past the end is 416 with Content-Range: bytes */size; several ranges get the whole blob', async () => {
      const past = await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-H', `Range: bytes=${whole.length}-`]);
      expect(past.status).toBe(416);
      expect(past.headers['content-range']).toBe(`bytes */${whole.length}`);
      const several = await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-H', 'Range: bytes=0-9,20-29']);
      expect(several.status).toBe(200);
      expect(several.body.equals(whole)).toBe(true);
    });

    it('a resumed download ("the client keeps the partial data and uses http Range requests") assembles the blob', async () => {
      const parts: Buffer[] = [];
      for (let start = 0; start < whole.length; start += 7000) parts.push((await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-H', `Range: bytes=${start}-${start + 6999}`])).body);
      expect(sha256(Buffer.concat(parts))).toBe(app1Layer);
    });
  });
});

describe('checking if content exists in the registry (HEAD)', () => {
  it('"A HEAD request to an existing blob or manifest URL MUST return 200 OK", with Docker-Content-Digest and Content-Length, and no body', async () => {
    const manifest = await curl(`${v2}/shop/app1/manifests/1.0`, ['-I']);
    expect(manifest.status).toBe(200);
    expect(manifest.headers['docker-content-digest']).toBe(fixture.images.app1.descriptor.digest);
    expect(Number(manifest.headers['content-length'])).toBe(fixture.images.app1.descriptor.size);
    expect(manifest.headers['content-type']).toBe(MANIFEST);
    const byDigest = await curl(`${v2}/shop/app1/manifests/${fixture.images.app1.descriptor.digest}`, ['-I']);
    expect(byDigest.status).toBe(200);
    const blob = await curl(`${v2}/shop/app1/blobs/${app1Layer}`, ['-I']);
    expect(blob.status).toBe(200);
    expect(blob.headers['docker-content-digest']).toBe(app1Layer);
    expect(Number(blob.headers['content-length'])).toBe((await curl(`${v2}/shop/app1/blobs/${app1Layer}`)).body.length);
    expect(blob.body.length).toBe(0);
  });

  it('"If the blob or manifest is not found in the repository, the response code MUST be 404 Not Found"', async () => {
    expect((await curl(`${v2}/shop/app1/manifests/missing`, ['-I'])).status).toBe(404);
    expect((await curl(`${v2}/shop/app1/blobs/sha256:${'2'.repeat(64)}`, ['-I'])).status).toBe(404);
  });
});

describe('listing tags (end-8a, end-8b)', () => {
  const app1Tags = () => {
    const hex = fixture.images.app1.descriptor.digest.slice(7);
    return ['1.0', 'latest', `sha256-${hex}.sbom`, `sha256-${hex}.sig`, 'stable'];
  };

  it('"the tags MUST be in lexical ... or ASCIIbetical order", as {"name", "tags"}', async () => {
    const answer = await curl(`${v2}/shop/app1/tags/list`);
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({ name: 'shop/app1', tags: app1Tags() });
    expect(answer.headers.link).toBeUndefined();
  });

  it('"the response MUST include <int> results" for n, with a Link rel="next" header that, followed, yields every tag once', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${v2}/shop/app1/tags/list?n=2`;
    for (let pages = 0; url !== undefined; pages++) {
      expect(pages).toBeLessThan(5);
      const answer = await curl(url);
      const { tags } = json(answer) as { tags: string[] };
      seen.push(...tags);
      const link = answer.headers.link;
      if (link === undefined) {
        url = undefined;
        continue;
      }
      expect(tags).toHaveLength(2);
      const match = /^<([^>]+)>; rel="next"$/.exec(link);
      expect(match).not.toBeNull();
      url = `${server.url}${match![1]}`;
    }
    expect(seen).toEqual(app1Tags());
  });

  it('"When n is zero, this endpoint MUST return an empty list, and MUST NOT include a Link header"', async () => {
    const answer = await curl(`${v2}/shop/app1/tags/list?n=0`);
    expect(json(answer)).toEqual({ name: 'shop/app1', tags: [] });
    expect(answer.headers.link).toBeUndefined();
  });

  it('"up to <int> tags *after* <tagname> will be returned" for last, with or without n', async () => {
    expect(json(await curl(`${v2}/shop/app1/tags/list?last=latest`)).tags).toEqual(app1Tags().slice(2));
    expect(json(await curl(`${v2}/shop/app1/tags/list?n=1&last=1.0`)).tags).toEqual(['latest']);
  });

  it('an unknown repository is 404 NAME_UNKNOWN; an n that is not a number is 400', async () => {
    expectError(await curl(`${v2}/shop/nothing/tags/list`), 404, 'NAME_UNKNOWN');
    expect((await curl(`${v2}/shop/app1/tags/list?n=many`)).status).toBe(400);
  });
});

describe('listing repositories (_catalog, Docker registry API)', () => {
  it('lists every repository in order, paginated with n, last and Link like tags', async () => {
    const all = ['library/big', 'shop/app1', 'shop/app2', 'shop/multi'];
    expect(json(await curl(`${v2}/_catalog`))).toEqual({ repositories: all });
    const first = await curl(`${v2}/_catalog?n=3`);
    expect(json(first)).toEqual({ repositories: all.slice(0, 3) });
    expect(first.headers.link).toBe('</v2/_catalog?n=3&last=shop%2Fapp2>; rel="next"');
    expect(json(await curl(`${v2}/_catalog?n=3&last=shop%2Fapp2`))).toEqual({ repositories: ['shop/multi'] });
  });
});

describe('listing referrers (end-12a, end-12b)', () => {
  const referrersOf = (digest: string, query = '') => curl(`${v2}/shop/app1/referrers/${digest}${query}`);

  it('"the response MUST be a JSON body with an image index", each descriptor with artifactType and the manifest\'s annotations', async () => {
    const answer = await referrersOf(fixture.images.app1.descriptor.digest);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(INDEX);
    const index = json(answer) as { schemaVersion: number; mediaType: string; manifests: Array<Record<string, unknown>> };
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(INDEX);
    const byDigest = Object.fromEntries(index.manifests.map((m) => [m.digest, m]));
    expect(Object.keys(byDigest).sort()).toEqual([fixture.signature.digest, fixture.sbom.digest].sort());
    expect(byDigest[fixture.signature.digest]).toEqual({
      mediaType: MANIFEST,
      digest: fixture.signature.digest,
      size: fixture.signature.size,
      artifactType: SIGNATURE_TYPE,
      annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ-test' },
    });
    // "If the artifactType is empty or missing in the image manifest, the value of artifactType MUST be set to the config descriptor mediaType value."
    expect(byDigest[fixture.sbom.digest]).toEqual({ mediaType: MANIFEST, digest: fixture.sbom.digest, size: fixture.sbom.size, artifactType: SBOM_CONFIG_TYPE });
  });

  it('"If filtering is requested and applied, the response MUST include a header OCI-Filters-Applied: artifactType"', async () => {
    const answer = await referrersOf(fixture.images.app1.descriptor.digest, `?artifactType=${encodeURIComponent(SIGNATURE_TYPE)}`);
    expect(answer.headers['oci-filters-applied']).toBe('artifactType');
    expect((json(answer) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest)).toEqual([fixture.signature.digest]);
    expect((await referrersOf(fixture.images.app1.descriptor.digest)).headers['oci-filters-applied']).toBeUndefined();
  });

  it('"If a query results in no matching referrers, an empty manifest list MUST be returned" (never a 404)', async () => {
    const answer = await referrersOf(`sha256:${'3'.repeat(64)}`);
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({ schemaVersion: 2, mediaType: INDEX, manifests: [] });
  });

  it('"If the request is invalid, such as a <digest> with an invalid syntax, a 400 Bad Request MUST be returned"', async () => {
    expectError(await referrersOf('sha256:not!hex'), 400, 'DIGEST_INVALID');
  });

  it('the referrers are pulled like any manifest, from the repository of their subject', async () => {
    const answer = await curl(`${v2}/shop/app1/manifests/${fixture.signature.digest}`);
    expect(answer.status).toBe(200);
    expect(sha256(answer.body)).toBe(fixture.signature.digest);
    expect((json(answer) as { subject: { digest: string } }).subject.digest).toBe(fixture.images.app1.descriptor.digest);
  });
});

describe('a read-only registry: writes are UNSUPPORTED ("the operation is unsupported")', () => {
  const cases: Array<[string, string]> = [
    ['POST', `/shop/app1/blobs/uploads/`],
    ['POST', `/shop/new/blobs/uploads/?digest=sha256:${'4'.repeat(64)}`],
    ['PATCH', `/shop/app1/blobs/uploads/some-session`],
    ['PUT', `/shop/app1/blobs/uploads/some-session?digest=sha256:${'4'.repeat(64)}`],
    ['PUT', `/shop/app1/manifests/2.0`],
    ['DELETE', `/shop/app1/manifests/1.0`],
    ['DELETE', `/shop/app1/blobs/sha256:${'5'.repeat(64)}`],
  ];
  for (const [method, path] of cases) {
    it(`${method} ${path.replace(/\?.*/, '')}: 405 UNSUPPORTED, Allow: GET, HEAD`, async () => {
      const answer = await curl(`${v2}${path}`, ['-X', method, '--data-binary', '{}', '-H', 'Content-Type: application/octet-stream']);
      expectError(answer, 405, 'UNSUPPORTED');
      expect(answer.headers.allow).toBe('GET, HEAD');
    });
  }

  it('after every refused write the content is unchanged', async () => {
    const answer = await curl(`${v2}/shop/app1/manifests/1.0`);
    expect(sha256(answer.body)).toBe(fixture.images.app1.descriptor.digest);
    expect(json(await curl(`${v2}/_catalog`)).repositories).toEqual(['library/big', 'shop/app1', 'shop/app2', 'shop/multi']);
  });
});

it(`serves ${SHOP} images under shop/, the source registry host dropped as install maps it`, async () => {
  expect((await curl(`${v2}/registry.example.internal/shop/app1/manifests/1.0`)).status).toBe(404);
  expect((await curl(`${v2}/shop/app1/manifests/1.0`)).status).toBe(200);
});

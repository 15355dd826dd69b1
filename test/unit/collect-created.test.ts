import { describe, expect, it } from 'vitest';
import { resolveCreated } from '../../src/build/created-time.js';
import { buildBundleManifest, manifestBytes, type BundleFacts } from '../../src/build/describe-bundle.js';
import type { BundleManifest } from '../../src/manifest/bundle-manifest.js';
import { isAirlockError } from '../../src/base/errors.js';
import { parseReleaseManifest } from '../../src/manifest/release.js';

/** The newest of the input files' mtimes. */
const inputs = 1_750_000_123_456.7;

function thrown(action: () => unknown): Error & { code?: string } {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

describe('resolveCreated', () => {
  it('prefers SOURCE_DATE_EPOCH over the manifest and the inputs', () => {
    expect(resolveCreated({ created: '2026-01-15T09:00:00Z' }, { SOURCE_DATE_EPOCH: '1234567890' }, inputs)).toEqual(new Date(1_234_567_890_000));
    expect(resolveCreated({}, { SOURCE_DATE_EPOCH: '0' }, inputs)).toEqual(new Date(0));
  });

  it("takes the manifest's created next, in UTC and whole seconds", () => {
    expect(resolveCreated({ created: '2026-01-15T10:00:00.750+01:00' }, {}, inputs).toISOString()).toBe('2026-01-15T09:00:00.000Z');
    // An empty SOURCE_DATE_EPOCH counts as unset.
    expect(resolveCreated({ created: '2026-01-15T09:00:00Z' }, { SOURCE_DATE_EPOCH: '' }, inputs).toISOString()).toBe('2026-01-15T09:00:00.000Z');
  });

  it('falls back to the newest input mtime, truncated to whole seconds', () => {
    expect(resolveCreated({}, {}, inputs)).toEqual(new Date(1_750_000_123_000));
  });

  it.each(['-1', '1.5', '12abc', ' 1', '1e9', '8589934592', '99999999999999999999'])('refuses SOURCE_DATE_EPOCH=%j', (value) => {
    const error = thrown(() => resolveCreated({}, { SOURCE_DATE_EPOCH: value }, inputs));
    expect(isAirlockError(error, 'USAGE')).toBe(true);
    expect(error.message).toBe(`SOURCE_DATE_EPOCH: expected whole seconds since 1970 (0 to 8589934591), got ${JSON.stringify(value)}`);
  });
});

describe('buildBundleManifest', () => {
  const facts: BundleFacts = {
    created: new Date('2026-01-15T09:00:00Z'),
    images: [{ ref: 'example.org/shop/api:1.0.0', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.index.v1+json', platforms: ['linux/amd64'], size: 1234 }],
    builtBy: { tool: 'airlock', version: '0.1.0' },
  };
  const contents = {
    configs: { prod: [{ path: 'configs/prod/app.yaml', dest: 'app.yaml', mode: '0640', template: true }] },
    migrations: { shop: [{ path: 'migrations/shop/V1__init.sql', version: '1', description: 'init' }] },
    hooks: { preInstall: [], postInstall: [], healthCheck: [{ name: 'ping', path: 'hooks/ping.sh', timeoutSeconds: 20 }] },
  };
  const manifest = (extra: string) => parseReleaseManifest({ name: 'shop', version: '1.2.0', ...JSON.parse(extra) }, 'shop.yaml');

  it('describes the release in the airlock.json shape', () => {
    expect(buildBundleManifest(manifest('{"targets": {"sites": ["berlin-1"]}, "onHealthCheckFailure": "stop"}'), contents, facts)).toEqual({
      format: 'airlock/v1',
      name: 'shop',
      version: '1.2.0',
      created: '2026-01-15T09:00:00Z',
      expires: null,
      targets: { sites: ['berlin-1'], environments: [] },
      ...contents,
      images: facts.images,
      onHealthCheckFailure: 'stop',
      builtBy: { tool: 'airlock', version: '0.1.0' },
    });
  });

  it('counts a duration from created, and takes an ISO expiry as given in whole seconds', () => {
    expect(buildBundleManifest(manifest('{"expires": "90d"}'), contents, facts).expires).toBe('2026-04-15T09:00:00Z');
    expect(buildBundleManifest(manifest('{"expires": "2026-06-30T23:59:59.5+02:00"}'), contents, facts).expires).toBe('2026-06-30T21:59:59Z');
  });

  it('refuses an expiry that is not after created', () => {
    const error = thrown(() => buildBundleManifest(manifest('{"expires": "2026-01-15T09:00:00Z"}'), contents, facts));
    expect(isAirlockError(error, 'MANIFEST_INVALID')).toBe(true);
    expect(error.message).toBe("expires: 2026-01-15T09:00:00Z is not after the bundle's created time 2026-01-15T09:00:00Z");
  });

  it("writes airlock.json's bytes as JSON.stringify indents it, and a newline", () => {
    const described = buildBundleManifest(manifest('{"targets": {"sites": ["berlin-1"]}, "expires": "90d"}'), contents, facts);
    const awkward = {
      ...described,
      configs: { 'prod "eu"': [{ path: 'configs/prod "eu"/\u00e9\u2028\n.yaml', nested: { deep: [[], {}, [1, [2, { x: null }]]] } }], empty: [], 'ünï': [undefined, () => 1] },
      holes: [1, , 3],
      skipped: undefined,
      when: new Date(0),
      deep: { a: { b: { c: { d: [{ e: 'f\ng' }] } } } },
      nothing: {},
      numbers: [0, -1.5, 1e21, Number.NaN],
    };
    for (const value of [described, awkward]) {
      expect(manifestBytes(value as unknown as BundleManifest).toString('utf8')).toBe(`${JSON.stringify(value, null, 2)}\n`);
    }
  });

  it('validates its output against the airlock.json schema', () => {
    const error = thrown(() => buildBundleManifest(manifest('{}'), contents, { ...facts, images: [{ ...facts.images[0]!, digest: 'sha256:nothex' }] }));
    expect(isAirlockError(error, 'INTERNAL')).toBe(true);
    expect(error.message).toBe('airlock.json: images[0].digest: expected sha256:<64 hex>');
  });
});

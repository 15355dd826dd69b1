import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isAirlockError } from '../../src/base/errors.js';
import { loadReleaseManifest, parseReleaseManifest } from '../../src/manifest/release.js';

const FILE = 'manifests/shop.yaml';

/** The problem lines a manifest gets; fails the test when it is accepted. */
function problems(text: string): string[] {
  try {
    parseReleaseManifest(parse(text), FILE);
  } catch (error) {
    expect(isAirlockError(error, 'MANIFEST_INVALID'), String(error)).toBe(true);
    return (error as Error).message.split('\n');
  }
  throw new Error('manifest was accepted');
}

describe('release manifest schema', () => {
  it('applies the documented defaults', () => {
    const manifest = parseReleaseManifest(
      parse(`
name: shop
version: 1.0.0
configs:
  prod:
    - { src: ./configs/app.yaml.tmpl, dest: app.yaml }
hooks:
  healthCheck:
    - { name: ping, script: hooks/ping.sh }
`),
      FILE,
    );
    expect(manifest).toEqual({
      name: 'shop',
      version: '1.0.0',
      targets: { sites: [], environments: [] },
      configs: { prod: [{ src: 'configs/app.yaml.tmpl', dest: 'app.yaml', mode: '0644' }] },
      migrations: {},
      hooks: { preInstall: [], postInstall: [], healthCheck: [{ name: 'ping', script: 'hooks/ping.sh', timeout: 60 }] },
      onHealthCheckFailure: 'rollback',
      images: [],
    });
  });

  it('normalises paths, modes and timeouts', () => {
    const manifest = parseReleaseManifest(
      parse(`
name: shop
version: 2.0.0-rc.1+build.5
created: 2026-01-15T10:00:00+01:00
expires: 90d
configs:
  prod:
    - { src: 'configs//prod/./nginx/', dest: ., mode: '640', template: false }
migrations:
  shop: { dir: db/../db/shop }
hooks:
  preInstall:
    - { name: check, script: hooks/check.sh, timeout: 5m }
`),
      FILE,
    );
    expect(manifest.configs.prod).toEqual([{ src: 'configs/prod/nginx', dest: '.', mode: '0640', template: false }]);
    expect(manifest.migrations.shop?.dir).toBe('db/shop');
    expect(manifest.hooks.preInstall[0]?.timeout).toBe(300);
    expect(manifest.created).toBe('2026-01-15T10:00:00+01:00');
  });

  it('reports every problem at once, one line each with its YAML path', () => {
    expect(
      problems(`
name: Shop Web
version: 1.0
extra: true
configs:
  prod:
    - { src: configs/app.yaml, dest: app.yaml }
    - { src: configs/b.yaml, dest: b.yaml, mode: 0640, colour: red }
    - { src: configs/c.yaml }
migrations:
  shop: {}
hooks:
  postInstall:
    - { name: reload, script: hooks/reload.sh, timeout: soon }
  later: []
onHealthCheckFailure: ignore
`),
    ).toEqual([
      `${FILE}: name: expected a name of letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters`,
      `${FILE}: version: expected a quoted string such as '1.4.0' (YAML read 1)`,
      `${FILE}: configs.prod[1].mode: expected a quoted string such as '0640' (YAML read 640)`,
      `${FILE}: configs.prod[1]: unknown key colour`,
      `${FILE}: configs.prod[2].dest: required`,
      `${FILE}: migrations.shop.dir: required`,
      `${FILE}: hooks.postInstall[0].timeout: expected a duration such as 60s, 5m or 1h: soon`,
      `${FILE}: hooks: unknown key later`,
      `${FILE}: onHealthCheckFailure: Invalid option: expected one of "rollback"|"stop"`,
      `${FILE}: (top level): unknown key extra`,
    ]);
  });

  it.each([
    ['1.0', 'not a semantic version: 1.0'],
    ['v1.2.3', 'not a semantic version: v1.2.3'],
    ['1.2.3-01', 'not a semantic version: 1.2.3-01'],
  ])('refuses version %j', (version, message) => {
    expect(problems(`{ name: shop, version: '${version}' }`)).toEqual([
      `${FILE}: version: ${message} (expected MAJOR.MINOR.PATCH such as 1.4.0, or 2.0.0-rc.1)`,
    ]);
  });

  it('refuses absolute and escaping paths, naming the field', () => {
    expect(
      problems(`
name: shop
version: 1.0.0
configs:
  prod:
    - { src: /etc/shop/app.yaml, dest: app.yaml }
    - { src: ../secrets/token, dest: /etc/token }
    - { src: configs/../../x, dest: nginx/../../x }
    - { src: configs/a, dest: 'conf.d/' }
    - { src: "configs\\\\a", dest: a }
    - { src: ., dest: a }
migrations:
  shop: { dir: /var/lib/migrations }
hooks:
  preInstall:
    - { name: check, script: ../check.sh }
images:
  - { ref: example.org/shop/api:1, ociLayout: /srv/oci }
`),
    ).toEqual([
      `${FILE}: configs.prod[0].src: must be relative to the manifest's directory: /etc/shop/app.yaml`,
      `${FILE}: configs.prod[1].src: escapes the manifest's directory: ../secrets/token`,
      `${FILE}: configs.prod[1].dest: must be relative to the site's config root: /etc/token`,
      `${FILE}: configs.prod[2].src: escapes the manifest's directory: configs/../../x`,
      `${FILE}: configs.prod[2].dest: escapes the site's config root: nginx/../../x`,
      `${FILE}: configs.prod[3].dest: must not end with '/': conf.d/`,
      `${FILE}: configs.prod[4].src: not usable in a bundle (backslash, control character, or a name over 255 bytes): "configs\\\\a"`,
      `${FILE}: configs.prod[5].src: must name something below the manifest's directory: .`,
      `${FILE}: migrations.shop.dir: must be relative to the manifest's directory: /var/lib/migrations`,
      `${FILE}: hooks.preInstall[0].script: escapes the manifest's directory: ../check.sh`,
    ]);
  });

  it('checks names used as path components and target lists', () => {
    expect(
      problems(`
name: shop
version: 1.0.0
targets: { sites: [berlin-1, berlin-1], environments: [prod] }
configs:
  ../etc: []
  staging: []
migrations:
  'my db': { dir: db }
`),
    ).toEqual([
      `${FILE}: configs.../etc: not a valid environment name: expected a name of letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters`,
      `${FILE}: migrations.my db: not a valid database name: expected a name of letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters`,
    ]);
    expect(
      problems(`
name: shop
version: 1.0.0
targets: { sites: [berlin-1, berlin-1], environments: [prod] }
configs: { staging: [] }
hooks:
  healthCheck:
    - { name: ping, script: a.sh }
    - { name: ping, script: b.sh }
images:
  - { ref: example.org/shop/api:1, ociLayout: ../oci }
  - { ref: example.org/shop/api:1 }
`),
    ).toEqual([
      `${FILE}: targets.sites[1]: berlin-1 is already listed at targets.sites[0]`,
      `${FILE}: configs.staging: environment staging is not in targets.environments (prod)`,
      `${FILE}: hooks.healthCheck[1].name: ping is already the name of hooks.healthCheck[0]`,
      `${FILE}: images[1].ref: example.org/shop/api:1 is already listed at images[0]`,
      `${FILE}: images[0].ociLayout: escapes the manifest's directory: ../oci`,
    ]);
  });

  it('checks created and expires', () => {
    expect(problems(`{ name: shop, version: 1.0.0, created: yesterday, expires: 3 months }`)).toEqual([
      `${FILE}: created: expected an ISO time such as 2025-06-01T12:00:00Z`,
      `${FILE}: expires: expected an ISO time (2025-12-31T00:00:00Z) or a duration after created (90d, 12h, 2w)`,
    ]);
    expect(problems(`{ name: shop, version: 1.0.0, created: '1969-12-31T23:59:59Z' }`)).toEqual([
      `${FILE}: created: must lie between 1970 and 2242 (a tar header holds no other times)`,
    ]);
    expect(problems(`{ name: shop, version: 1.0.0, created: '2026-01-01T00:00:00Z', expires: '2025-12-31T00:00:00Z' }`)).toEqual([
      `${FILE}: expires: 2025-12-31T00:00:00Z is not after created (2026-01-01T00:00:00Z)`,
    ]);
  });
});

describe('loadReleaseManifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads YAML from a file and reports problems under the file name given', async () => {
    const file = join(dir, 'shop.yaml');
    await writeFile(file, 'name: shop\nversion: 1.0.0\nconfigs:\n  prod:\n    - src: app.yaml\n      dest: app.yaml\n      mode: 0640\n');
    await expect(loadReleaseManifest(file)).rejects.toThrow(`${file}: configs.prod[0].mode: expected a quoted string such as '0640' (YAML read 640)`);
  });

  it('refuses duplicate keys rather than letting the last one win', async () => {
    const file = join(dir, 'shop.yaml');
    await writeFile(file, 'name: shop\nversion: 1.0.0\nname: other\n');
    await expect(loadReleaseManifest(file)).rejects.toThrow(/Map keys must be unique/);
  });

  it('loads the example manifests', async () => {
    for (const name of ['shop.yaml', 'shop-1.1.0.yaml', 'shop-with-images.yaml']) {
      const manifest = await loadReleaseManifest(join('manifests', name));
      expect(manifest.name).toBe('shop');
    }
  });
});

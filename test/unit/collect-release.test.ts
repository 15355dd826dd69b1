import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectRelease } from '../../src/build/collect-release.js';
import { isAirlockError } from '../../src/base/errors.js';
import { loadReleaseManifest } from '../../src/manifest/release.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'airlock-collect-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function files(tree: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

async function collect(manifest: string) {
  const file = join(root, 'release.yaml');
  await writeFile(file, `name: shop\nversion: 1.0.0\n${manifest}`);
  return collectRelease(file, await loadReleaseManifest(file));
}

/** The problem lines collection reports, without the manifest file prefix. */
async function problems(manifest: string): Promise<string[]> {
  try {
    await collect(manifest);
  } catch (error) {
    expect(isAirlockError(error, 'MANIFEST_INVALID'), String(error)).toBe(true);
    return (error as Error).message.split('\n').map((line) => line.replace(`${join(root, 'release.yaml')}: `, ''));
  }
  throw new Error('release was collected without problems');
}

describe('config collection', () => {
  it('maps directories recursively under dest, templates by suffix, modes from the entry', async () => {
    await files({
      'app.yaml.tmpl': 'db: {{db_host}}\n',
      'nginx/shop.conf': 'server {}\n',
      'nginx/snippets/tls.conf.mustache': 'ssl_certificate {{cert}};\n',
      'nginx/snippets/raw.tmpl': 'kept as is\n',
      'root/motd': 'hello\n',
      'plain/.tmpl': 'a name that is only a suffix\n',
    });
    const release = await collect(`
configs:
  prod:
    - { src: app.yaml.tmpl, dest: shop/app.yaml, mode: '0600' }
    - { src: nginx, dest: nginx/conf.d }
    - { src: root, dest: . }
  staging:
    - { src: nginx/snippets, dest: snippets, template: false }
    - { src: plain, dest: plain }
`);
    expect(release.configs).toEqual({
      prod: [
        { path: 'configs/prod/motd', dest: 'motd', mode: '0644', template: false },
        { path: 'configs/prod/nginx/conf.d/shop.conf', dest: 'nginx/conf.d/shop.conf', mode: '0644', template: false },
        { path: 'configs/prod/nginx/conf.d/snippets/raw', dest: 'nginx/conf.d/snippets/raw', mode: '0644', template: true },
        { path: 'configs/prod/nginx/conf.d/snippets/tls.conf', dest: 'nginx/conf.d/snippets/tls.conf', mode: '0644', template: true },
        { path: 'configs/prod/shop/app.yaml', dest: 'shop/app.yaml', mode: '0600', template: true },
      ],
      staging: [
        { path: 'configs/staging/plain/.tmpl', dest: 'plain/.tmpl', mode: '0644', template: false },
        { path: 'configs/staging/snippets/raw.tmpl', dest: 'snippets/raw.tmpl', mode: '0644', template: false },
        { path: 'configs/staging/snippets/tls.conf.mustache', dest: 'snippets/tls.conf.mustache', mode: '0644', template: false },
      ],
    });
    const byPath = new Map(release.files.map((file) => [file.path, file]));
    expect(byPath.get('configs/prod/shop/app.yaml')).toEqual({
      path: 'configs/prod/shop/app.yaml',
      size: 16,
      mode: 0o644,
      source: { kind: 'file', path: join(root, 'app.yaml.tmpl') },
    });
    expect(release.files.map((file) => file.path)).toEqual([...byPath.keys()].sort());
  });

  it('reports missing, linked, special and clashing sources all at once', async () => {
    await files({
      'configs/app.yaml': 'a: 1\n',
      'configs/other/app.yaml': 'a: 2\n',
      'elsewhere/secret.conf': 'x\n',
      'elsewhere/dir/x.conf': 'x\n',
      'nginx/shop.conf': 'server {}\n',
    });
    await mkdir(join(root, 'empty'));
    await symlink(join(root, 'elsewhere/secret.conf'), join(root, 'configs/link.conf'));
    await symlink(join(root, 'elsewhere/dir'), join(root, 'linked-dir'));
    await symlink('../elsewhere/secret.conf', join(root, 'nginx/inside.conf'));
    expect(
      await problems(`
configs:
  prod:
    - { src: configs/app.yaml, dest: app.yaml }
    - { src: ./configs/prod/missing.yaml, dest: missing.yaml }
    - { src: configs/link.conf, dest: link.conf }
    - { src: linked-dir/x.conf, dest: x.conf }
    - { src: nginx, dest: nginx }
    - { src: empty, dest: empty }
    - { src: configs/other/app.yaml, dest: app.yaml }
    - { src: configs/app.yaml, dest: . }
    - { src: configs/app.yaml/x, dest: y }
`),
    ).toEqual([
      'configs.prod[1].src: no such file ./configs/prod/missing.yaml',
      'configs.prod[2].src: ./configs/link.conf is a symbolic link; sources must be real files and directories, so a bundle never depends on where a link points',
      'configs.prod[3].src: ./linked-dir is a symbolic link; sources must be real files and directories, so a bundle never depends on where a link points',
      'configs.prod[4].src: ./nginx/inside.conf is a symbolic link; sources must be real files and directories, so a bundle never depends on where a link points',
      'configs.prod[5].src: directory ./empty has no files',
      'configs.prod[6].dest: app.yaml is also written by configs.prod[0]',
      "configs.prod[7].dest: a file needs a destination file name, not '.'",
      'configs.prod[8].src: ./configs/app.yaml is not a directory',
    ]);
  });

  it('refuses a destination that is both a file and a directory', async () => {
    await files({ 'a.conf': 'a\n', 'dir/b.conf': 'b\n' });
    expect(
      await problems(`
configs:
  prod:
    - { src: a.conf, dest: nginx }
    - { src: dir, dest: nginx }
    - { src: dir, dest: conf }
    - { src: a.conf, dest: conf }
`),
    ).toEqual([
      'configs.prod[1].dest: nginx/b.conf (from ./dir/b.conf) needs nginx to be a directory, but configs.prod[0] writes a file there',
      'configs.prod[3].dest: conf is a directory of files from configs.prod[2]',
    ]);
  });

  it('refuses file names a bundle cannot hold', async () => {
    await files({ 'dir/ok.conf': 'ok\n', 'dir/back\\slash.conf': 'x\n' });
    await writeFile(Buffer.concat([Buffer.from(join(root, 'dir/')), Buffer.from([0x66, 0xff, 0x2e, 0x63])]), 'x\n');
    expect(await problems(`configs: { prod: [ { src: dir, dest: conf } ] }\n`)).toEqual([
      'configs.prod[0].src: ./dir/back\\slash.conf: not usable in a bundle (backslash, control character, or a name over 255 bytes)',
      'configs.prod[0].src: ./dir/f\ufffd.c: file name is not valid UTF-8',
    ]);
  });
});

describe('migration collection', () => {
  it('records migrations in version order with their undo scripts', async () => {
    await files({
      'db/V1__create_customers.sql': 'CREATE TABLE customers (id INTEGER);\n',
      'db/V1.1__add_email.sql': 'ALTER TABLE customers ADD COLUMN email TEXT;\n',
      'db/V10__late.sql': 'SELECT 1;\n',
      'db/V2__create_orders.sql': 'CREATE TABLE orders (id INTEGER);\n',
      'db/U2__drop_orders.sql': 'DROP TABLE orders;\n',
    });
    const release = await collect('migrations:\n  shop: { dir: db }\n');
    expect(release.migrations).toEqual({
      shop: [
        { path: 'migrations/shop/V1__create_customers.sql', version: '1', description: 'create customers' },
        { path: 'migrations/shop/V1.1__add_email.sql', version: '1.1', description: 'add email' },
        { path: 'migrations/shop/V2__create_orders.sql', version: '2', description: 'create orders', undo: 'migrations/shop/U2__drop_orders.sql' },
        { path: 'migrations/shop/V10__late.sql', version: '10', description: 'late' },
      ],
    });
    expect(release.files.map((file) => [file.path, file.mode, file.size])).toEqual([
      ['migrations/shop/U2__drop_orders.sql', 0o644, 19],
      ['migrations/shop/V1.1__add_email.sql', 0o644, 45],
      ['migrations/shop/V10__late.sql', 0o644, 10],
      ['migrations/shop/V1__create_customers.sql', 0o644, 37],
      ['migrations/shop/V2__create_orders.sql', 0o644, 34],
    ]);
  });

  it('names every file that is not a migration, duplicate versions and orphan undo scripts', async () => {
    await files({
      'db/V1__create_customers.sql': 'x',
      'db/V01.0__again.sql': 'x',
      'db/V2__orders.SQL': 'x',
      'db/README.md': 'x',
      'db/v3__lower.sql': 'x',
      'db/V4_single_underscore.sql': 'x',
      'db/U5__undo_nothing.sql': 'x',
      'db/old/V0__x.sql': 'x',
      'other/V1__x.sql': 'x',
      'notes.txt': 'x',
    });
    await mkdir(join(root, 'none'));
    await symlink(join(root, 'other/V1__x.sql'), join(root, 'db/V6__linked.sql'));
    expect(
      await problems(`
migrations:
  shop: { dir: db }
  empty: { dir: none }
  gone: { dir: missing }
  file: { dir: notes.txt }
`),
    ).toEqual([
      'migrations.empty.dir: no migrations (V<version>__<description>.sql) in ./none',
      'migrations.file.dir: ./notes.txt is a file; expected a directory of migrations',
      'migrations.gone.dir: no such directory ./missing',
      'migrations.shop.dir: ./db/README.md: not a migration (expected V<version>__<description>.sql or U<version>__<description>.sql, e.g. V3__add_order_status.sql)',
      'migrations.shop.dir: ./db/V1__create_customers.sql: version 1 is also ./db/V01.0__again.sql',
      'migrations.shop.dir: ./db/V2__orders.SQL: not a migration (expected V<version>__<description>.sql or U<version>__<description>.sql, e.g. V3__add_order_status.sql)',
      'migrations.shop.dir: ./db/V4_single_underscore.sql: not a migration (expected V<version>__<description>.sql or U<version>__<description>.sql, e.g. V3__add_order_status.sql)',
      'migrations.shop.dir: ./db/V6__linked.sql is a symbolic link; sources must be real files and directories, so a bundle never depends on where a link points',
      'migrations.shop.dir: ./db/old: not a migration (expected V<version>__<description>.sql or U<version>__<description>.sql, e.g. V3__add_order_status.sql)',
      'migrations.shop.dir: ./db/v3__lower.sql: not a migration (expected V<version>__<description>.sql or U<version>__<description>.sql, e.g. V3__add_order_status.sql)',
      'migrations.shop.dir: ./db/U5__undo_nothing.sql: undoes version 5, but there is no V5__*.sql',
    ]);
  });
});

describe('hook collection', () => {
  it('keeps manifest order per phase, mode 0755, one payload file per script', async () => {
    await files({ 'hooks/check.sh': '#!/bin/sh\nexit 0\n', 'hooks/ping.sh': '#!/bin/sh\ntrue\n' });
    const release = await collect(`
hooks:
  preInstall:
    - { name: z-first, script: hooks/ping.sh, timeout: 2m }
    - { name: a-second, script: hooks/check.sh }
  healthCheck:
    - { name: ping, script: ./hooks/ping.sh, timeout: 5s }
`);
    expect(release.hooks).toEqual({
      preInstall: [
        { name: 'z-first', path: 'hooks/ping.sh', timeoutSeconds: 120 },
        { name: 'a-second', path: 'hooks/check.sh', timeoutSeconds: 60 },
      ],
      postInstall: [],
      healthCheck: [{ name: 'ping', path: 'hooks/ping.sh', timeoutSeconds: 5 }],
    });
    expect(release.files.map((file) => [file.path, file.mode, file.size])).toEqual([
      ['hooks/check.sh', 0o755, 17],
      ['hooks/ping.sh', 0o755, 15],
    ]);
  });

  it('refuses two scripts with one file name, directories and missing scripts', async () => {
    await files({ 'a/check.sh': 'a', 'b/check.sh': 'b', 'dir/x': 'x' });
    expect(
      await problems(`
hooks:
  preInstall:
    - { name: one, script: a/check.sh }
  postInstall:
    - { name: two, script: b/check.sh }
    - { name: three, script: dir }
    - { name: four, script: nowhere.sh }
`),
    ).toEqual([
      'hooks.postInstall[0].script: hooks/check.sh already holds ./a/check.sh (hooks.preInstall[0].script); give the scripts different file names',
      'hooks.postInstall[1].script: ./dir is a directory; a hook is one script file',
      'hooks.postInstall[2].script: no such file ./nowhere.sh',
    ]);
  });
});

it('takes the newest mtime of the sources read, the manifest itself included, for the created time', async () => {
  await files({ 'app.yaml': 'a', 'db/V1__x.sql': 'x', 'hooks/x.sh': 'x', 'unread.txt': 'x' });
  const file = join(root, 'release.yaml');
  await writeFile(
    file,
    `name: shop\nversion: 1.0.0
configs: { prod: [ { src: app.yaml, dest: app.yaml } ], staging: [ { src: app.yaml, dest: app.yaml } ] }
migrations: { shop: { dir: db } }
hooks: { healthCheck: [ { name: x, script: hooks/x.sh } ] }
`,
  );
  const mtimes = async (seconds: Record<string, number>) => {
    for (const [path, at] of Object.entries(seconds)) await utimes(join(root, path), at, at);
  };
  // A file the manifest does not name is not an input, however new.
  await mtimes({ 'release.yaml': 1000, 'app.yaml': 2000, 'db/V1__x.sql': 4000, 'hooks/x.sh': 3000, 'unread.txt': 9000 });
  expect((await collectRelease(file, await loadReleaseManifest(file))).newestInputMs).toBe(4_000_000);
  await mtimes({ 'release.yaml': 5000 });
  expect((await collectRelease(file, await loadReleaseManifest(file))).newestInputMs).toBe(5_000_000);
});

/**
 * What the installer's end-to-end tests share: a signing key and trust store, the example
 * releases (manifests/) copied so variants can be derived from them, bundles built with the
 * real CLI, demo sites on disk, and a snapshot of everything a site's state consists of
 * (config files, database schema and history, state.json), for "nothing changed" and
 * "same as an uninterrupted install" comparisons.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runCli, type CliResult } from './cli.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SECRET = 'tok-NEVER-PRINT-4711';

export interface Fixture {
  dir: string;
  trust: string;
  env: Record<string, string>;
  /** Writes files under the fixture's manifest tree (relative paths), a manifest, builds it; returns the bundle path. */
  build(manifestText: string, files?: Record<string, string>, env?: Record<string, string>): Promise<string>;
  /** manifests/<file> as text, for deriving variants. */
  manifest(file: string): Promise<string>;
}

let builds = 0;

/** The example releases shop 1.0.0 and 1.1.0 (manifests/), built with the fixture's key. */
export async function exampleReleases(fixture: Fixture): Promise<{ v100: string; v110: string }> {
  return { v100: await fixture.build(await fixture.manifest('shop.yaml')), v110: await fixture.build(await fixture.manifest('shop-1.1.0.yaml')) };
}

export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-install-'));
  const env = { AIRLOCK_PASSPHRASE: 'fixture passphrase', SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000) - 3600) };
  const made = await runCli(['keys', 'generate', '--name', 'build', '--out', join(dir, 'keys')], { env });
  expect(made.code, made.stderr).toBe(0);
  const trust = join(dir, 'trust');
  await mkdir(trust);
  await cp(join(dir, 'keys', 'build.pub.pem'), join(trust, 'build.pub.pem'));
  const src = join(dir, 'src');
  await cp(join(REPO, 'manifests'), src, { recursive: true });
  return {
    dir,
    trust,
    env,
    manifest: (file) => readFile(join(REPO, 'manifests', file), 'utf8'),
    async build(manifestText, files = {}, extraEnv = {}) {
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(src, path)), { recursive: true });
        await writeFile(join(src, path), content, { mode: path.startsWith('hooks/') || path.includes('/hooks/') ? 0o755 : 0o644 });
      }
      const n = builds++;
      const manifest = join(src, `release-${n}.yaml`);
      await writeFile(manifest, manifestText);
      const out = join(dir, 'bundles', String(n));
      const built = await runCli(['build', manifest, '--key', join(dir, 'keys', 'build.key.pem'), '--out', out], { env: { ...env, ...extraEnv } });
      expect(built.code, built.stderr).toBe(0);
      const [bundle] = (await readdir(out)).filter((f) => f.endsWith('.airlock'));
      return join(out, bundle!);
    },
  };
}

/** Copies a migrations directory of the example release and changes or adds files in it. */
export async function migrationsVariant(fixture: Fixture, from: string, to: string, files: Record<string, string>): Promise<void> {
  const src = join(fixture.dir, 'src');
  await cp(join(src, from), join(src, to), { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(src, to, name), content);
}

export interface VariantOptions {
  /** Migration files changed or added (by file name) in a copy of the 1.1.0 migrations. */
  migrations?: Record<string, string>;
  /** Replaces the whole hooks: section; scripts under variants/hooks/ (ok, fail, slow, env) exist. */
  hooks?: string;
  version?: string;
  /** Replaces the expires and targets lines of the example manifest. */
  top?: string;
  /** Extra environment for the build (e.g. SOURCE_DATE_EPOCH: '' to use the manifest's created). */
  env?: Record<string, string>;
}

/** A variant of the example release shop 1.1.0 (manifests/shop-1.1.0.yaml), built. */
export async function shopVariant(fixture: Fixture, options: VariantOptions): Promise<string> {
  let text = await fixture.manifest('shop-1.1.0.yaml');
  if (options.migrations) {
    const dir = `variants/m${Math.random().toString(36).slice(2)}`;
    await migrationsVariant(fixture, 'shop/1.1.0/migrations', dir, options.migrations);
    text = text.replace('dir: shop/1.1.0/migrations', `dir: ${dir}`);
  }
  if (options.hooks !== undefined) text = text.replace(/\nhooks:[\s\S]*?(?=\nonHealthCheckFailure)/, `\n${options.hooks}`);
  if (options.version) text = text.replace('version: 1.1.0', `version: ${options.version}`);
  if (options.top) text = text.replace('expires: 730d\ntargets:\n  environments: [staging, prod]', options.top);
  return fixture.build(
    text,
    {
      'variants/hooks/ok.sh': '#!/bin/sh\necho ok\n',
      'variants/hooks/fail.sh': '#!/bin/sh\necho "health: broken" >&2\nexit 3\n',
      'variants/hooks/slow.sh': '#!/bin/sh\nsleep 3\n',
      'variants/hooks/env.sh': '#!/bin/sh\nenv | grep -E "^(AIRLOCK_|db_host|api_token)" | sort > "$AIRLOCK_CONFIG_ROOT/../hook-env.txt"\n',
    },
    options.env,
  );
}

export interface TestSite {
  dir: string;
  file: string;
  etc: string;
  state: string;
  db: string;
}

export async function makeSite(
  fixture: Fixture,
  options: { site?: string; environment?: string; databases?: string; images?: string; extra?: string; variables?: Record<string, string> } = {},
): Promise<TestSite> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-site-'));
  const variables = options.variables ?? { db_host: 'db.internal', api_token: SECRET, smtp_host: 'mail.internal' };
  const file = join(dir, 'site.yaml');
  await writeFile(
    file,
    [
      `site: ${options.site ?? 'plant-a'}`,
      `environment: ${options.environment ?? 'prod'}`,
      'stateDir: state',
      `trust: ${fixture.trust}`,
      'variables:',
      ...Object.entries(variables).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      'targets:',
      '  configRoot: etc',
      '  databases:',
      options.databases ?? '    shop: { sqlite: { file: data/shop.db } }',
      `  images: ${options.images ?? '{ ociLayout: images }'}`,
      options.extra ?? '',
    ].join('\n'),
  );
  return { dir, file, etc: join(dir, 'etc'), state: join(dir, 'state'), db: join(dir, 'data', 'shop.db') };
}

/** Copies a whole site directory (all its paths are relative), e.g. to crash the same install many times. */
export async function copySite(site: TestSite): Promise<TestSite> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-site-'));
  await cp(site.dir, dir, { recursive: true });
  return { dir, file: join(dir, 'site.yaml'), etc: join(dir, 'etc'), state: join(dir, 'state'), db: join(dir, 'data', 'shop.db') };
}

export function install(bundle: string, site: TestSite, ...args: string[]): Promise<CliResult> {
  return runCli(['install', bundle, '--site', site.file, '--yes', ...args]);
}

/** Every file under root (relative paths, sorted); nothing for a root that does not exist. */
export async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await visit(path);
      else out.push(relative(root, path));
    }
  };
  await visit(root);
  return out.sort();
}

/** Every file under the config root: path -> mode and sha256 (temp files would show up here too). */
export async function configFiles(site: TestSite): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of await walk(site.etc)) {
    const full = join(site.etc, path);
    const mode = ((await stat(full)).mode & 0o777).toString(8);
    files[path] = `${mode} ${createHash('sha256').update(await readFile(full)).digest('hex').slice(0, 16)}`;
  }
  return files;
}

export function sqliteSchema(file: string): { tables: string[]; history: string[] } {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return { tables: [], history: [] };
  }
  try {
    const tables = (db.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ sql: string }>).map(
      (r) => r.sql,
    );
    const hasHistory = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'airlock_schema_history'").get() !== undefined;
    const history = hasHistory
      ? (
          db.prepare('SELECT version, description, checksum, success, bundle_version FROM airlock_schema_history ORDER BY installed_rank').all() as Array<
            Record<string, unknown>
          >
        ).map((r) => `${r.version}|${r.description}|${String(r.checksum).slice(0, 12)}|${r.success}|${r.bundle_version}`)
      : [];
    return { tables, history };
  } finally {
    db.close();
  }
}

/** The installed releases as state.json records them, without run ids and times. */
export async function stateSummary(site: TestSite): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(site.state, 'state.json'), 'utf8');
  } catch {
    return null;
  }
  type Configs = Record<string, { sha256: string; mode: number }>;
  const state = JSON.parse(text) as { releases: Array<Record<string, unknown> & { installId: string; configs?: Configs }> };
  // A v2 state.json keeps each release's config records in its install's directory.
  const configsOf = async (r: { installId: string; configs?: Configs }) => r.configs ?? (JSON.parse(await readFile(join(site.state, 'installs', r.installId, 'configs.json'), 'utf8')) as Configs);
  return Promise.all(
    state.releases.map(async (r) => ({
      release: `${r.name} ${r.version}`,
      health: r.health,
      digest: r.bundleDigest,
      migrations: r.migrations,
      configs: Object.fromEntries(Object.entries(await configsOf(r)).map(([dest, c]) => [dest, `${c.mode.toString(8)} ${c.sha256.slice(0, 16)}`])),
    })),
  );
}

export async function snapshot(site: TestSite) {
  return { configs: await configFiles(site), db: sqliteSchema(site.db), state: await stateSummary(site) };
}

export async function auditLines(site: TestSite): Promise<Array<Record<string, unknown>>> {
  try {
    return (await readFile(join(site.state, 'audit.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return [];
  }
}

/** Everything in the state directory that is not a backup of a config file, as one string. */
export async function stateTextWithoutBackups(site: TestSite): Promise<string> {
  let text = '';
  for (const path of await walk(site.state)) {
    if (path.split('/').includes('previous')) continue;
    text += await readFile(join(site.state, path), 'utf8');
  }
  return text;
}

/**
 * Migrations per database: every file in the directory must be a `V<n>__<desc>.sql` or
 * `U<n>__<desc>.sql`, each version at most once, each undo script matching a migration.
 * They become `migrations/<db>/<file>` and are recorded in version order.
 */
import { comparePaths, MIGRATIONS_DIR } from '../bundle/format.js';
import type { BundleMigration } from '../manifest/bundle-manifest.js';
import type { ReleaseManifest } from '../manifest/release.js';
import { compareMigrationVersions, MIGRATION_NAME_HINT, parseMigrationFileName } from '../manifest/release-migrations.js';
import { displaySource } from '../manifest/release-paths.js';
import type { SourceEntry } from './source-listing.js';
import { entryProblem, type PackContext } from './pack-context.js';

interface Script {
  name: string;
  source: string;
  entry: SourceEntry;
  description: string;
}

export function packMigrations(context: PackContext, manifest: ReleaseManifest): Record<string, BundleMigration[]> {
  const migrations: Record<string, BundleMigration[]> = {};
  for (const db of Object.keys(manifest.migrations).sort(comparePaths)) {
    const dir = manifest.migrations[db]?.dir ?? '';
    const where = ['migrations', db, 'dir'];
    const found = context.source(dir, where, 'directory');
    if (!found) continue;
    if (found.kind !== 'directory') {
      context.problem(where, `${displaySource(dir)} is a file; expected a directory of migrations`);
      continue;
    }
    const scripts = { versioned: new Map<string, Script>(), undo: new Map<string, Script>() };
    for (const [path, entry] of context.below(dir, 'children')) {
      const name = path.slice(dir.length + 1);
      const parsed = entry.kind === 'file' ? parseMigrationFileName(name) : undefined;
      if (!parsed) {
        context.problem(where, entryProblem(path, entry) ?? `${displaySource(path)}: not a migration (${MIGRATION_NAME_HINT})`);
        continue;
      }
      const same = scripts[parsed.kind].get(parsed.version);
      if (same) {
        context.problem(where, `${displaySource(path)}: version ${parsed.version} is also ${displaySource(same.source)}`);
        continue;
      }
      scripts[parsed.kind].set(parsed.version, { name, source: path, entry, description: parsed.description });
    }
    for (const [version, undo] of scripts.undo) {
      if (!scripts.versioned.has(version)) {
        context.problem(where, `${displaySource(undo.source)}: undoes version ${version}, but there is no V${version}__*.sql`);
      }
    }
    if (scripts.versioned.size === 0) {
      context.problem(where, `no migrations (V<version>__<description>.sql) in ${displaySource(dir)}`);
      continue;
    }
    const bundlePath = (script: Script): string => `${MIGRATIONS_DIR}${db}/${script.name}`;
    const records: BundleMigration[] = [];
    for (const [version, script] of scripts.versioned) {
      context.addFile(bundlePath(script), script.source, script.entry);
      const undo = scripts.undo.get(version);
      if (undo) context.addFile(bundlePath(undo), undo.source, undo.entry);
      records.push({ path: bundlePath(script), version, description: script.description, ...(undo ? { undo: bundlePath(undo) } : {}) });
    }
    migrations[db] = records.sort((a, b) => compareMigrationVersions(a.version, b.version));
  }
  return migrations;
}

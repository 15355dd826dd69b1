/**
 * Migration file names, Flyway style: `V<version>__<description>.sql` applies a change,
 * `U<version>__<description>.sql` undoes the migration of the same version. Versions are
 * dot-separated whole numbers compared part by part (1 < 1.1 < 2 < 10; 1 equals 1.0 and 01).
 */
export interface MigrationFileName {
  kind: 'versioned' | 'undo';
  /** Canonical form: no leading zeros, no trailing `.0` parts (`V01.0__x.sql` has version `1`). */
  version: string;
  /** The name's description with underscores read as spaces: `create customers`. */
  description: string;
}

const FILE_NAME = /^([VU])(\d+(?:\.\d+)*)__([A-Za-z0-9][A-Za-z0-9_-]*)\.sql$/;

export const MIGRATION_NAME_HINT = 'expected V<version>__<description>.sql or U<version>__<description>.sql, e.g. V3__add_order_status.sql';

export function parseMigrationFileName(name: string): MigrationFileName | undefined {
  const match = FILE_NAME.exec(name);
  if (!match) return undefined;
  const [, letter, version = '', description = ''] = match;
  return {
    kind: letter === 'V' ? 'versioned' : 'undo',
    version: canonicalMigrationVersion(version),
    description: description.replaceAll('_', ' '),
  };
}

function versionParts(version: string): string[] {
  const parts = version.split('.').map((part) => part.replace(/^0+(?=\d)/, ''));
  while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
  return parts;
}

function canonicalMigrationVersion(version: string): string {
  return versionParts(version).join('.');
}

/** Order of two migration versions (`3`, `1.2`): negative, zero or positive. */
export function compareMigrationVersions(a: string, b: string): number {
  const left = versionParts(a);
  const right = versionParts(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? '0';
    const y = right[i] ?? '0';
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

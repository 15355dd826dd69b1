import { describe, expect, it } from 'vitest';
import { compareMigrationVersions, parseMigrationFileName } from '../../src/manifest/release-migrations.js';

describe('migration file names', () => {
  it('reads kind, canonical version and description', () => {
    expect(parseMigrationFileName('V3__add_order_status.sql')).toEqual({ kind: 'versioned', version: '3', description: 'add order status' });
    expect(parseMigrationFileName('U003.10.0__undo-it.sql')).toEqual({ kind: 'undo', version: '3.10', description: 'undo-it' });
    expect(parseMigrationFileName('V0__baseline.sql')).toEqual({ kind: 'versioned', version: '0', description: 'baseline' });
  });

  it.each(['V3_add.sql', 'V3__.sql', 'V__x.sql', 'v3__x.sql', 'R__repeatable.sql', 'V3__x.SQL', 'V3__x.sql.bak', 'V1..2__x.sql', 'V3__ space.sql', 'V3__x y.sql'])(
    'refuses %j',
    (name) => expect(parseMigrationFileName(name)).toBeUndefined(),
  );

  it('orders versions part by part as numbers', () => {
    const ordered = ['0', '1', '1.1', '1.2', '1.10', '2', '10', '100000000000000000000'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareMigrationVersions(ordered[i]!, ordered[j]!)), `${ordered[i]} vs ${ordered[j]}`).toBe(Math.sign(i - j));
      }
    }
    expect(compareMigrationVersions('1', '1.0.0')).toBe(0);
    expect(compareMigrationVersions('01', '1')).toBe(0);
  });
});

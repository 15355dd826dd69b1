import { describe, expect, it } from 'vitest';
import { compareVersions, isSemver, parseSemver } from '../../src/manifest/semver.js';
import { isAirlockError } from '../../src/base/errors.js';

describe('semver parsing', () => {
  it('splits core, pre-release and build metadata', () => {
    expect(parseSemver('1.4.0-rc.1+build.7')).toEqual({ major: '1', minor: '4', patch: '0', prerelease: ['rc', '1'], build: ['build', '7'] });
    expect(parseSemver('0.0.0')).toEqual({ major: '0', minor: '0', patch: '0', prerelease: [], build: [] });
  });

  it.each(['1', '1.0', '1.0.0.0', 'v1.0.0', '01.0.0', '1.00.0', '1.0.0-01', '1.0.0-', '1.0.0+', '1.0.0-a..b', ' 1.0.0', '1.0.0_x', `1.0.0-${'a'.repeat(130)}`])(
    'refuses %j',
    (text) => expect(isSemver(text)).toBe(false),
  );

  it.each(['1.0.0-0A.is.legal', '1.0.0-x-y-z.--', '1.0.0+0.build.1-rc.10000aaa-kk-0.1', '99999999999999999999.0.0'])('accepts %j', (text) => {
    expect(isSemver(text)).toBe(true);
  });
});

describe('compareVersions', () => {
  it('orders by semver precedence, pre-releases before their release (semver.org §11)', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '1.10.0',
      '2.0.0-0',
      '2.0.0',
      '10.0.0',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareVersions(ordered[i]!, ordered[j]!)), `${ordered[i]} vs ${ordered[j]}`).toBe(Math.sign(i - j));
      }
    }
  });

  it('ignores build metadata and compares numbers beyond 2^53 exactly', () => {
    expect(compareVersions('1.0.0+a', '1.0.0+b')).toBe(0);
    expect(compareVersions('9007199254740993.0.0', '9007199254740992.0.0')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0-9007199254740993', '1.0.0-9007199254740992')).toBeGreaterThan(0);
  });

  it('throws MANIFEST_INVALID naming a version that is not semver', () => {
    let caught: unknown;
    try {
      compareVersions('1.0.0', '1.0');
    } catch (error) {
      caught = error;
    }
    expect(isAirlockError(caught, 'MANIFEST_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('"1.0"');
  });
});

/**
 * Semantic Versioning 2.0.0 (https://semver.org): parsing and precedence, for release
 * versions and the installer's downgrade check. Numbers are kept as digit strings so
 * versions beyond Number.MAX_SAFE_INTEGER still compare exactly.
 */
import { AirlockError } from '../base/errors.js';

export interface SemVer {
  major: string;
  minor: string;
  patch: string;
  /** Dot-separated pre-release identifiers (after '-'); empty for a release. */
  prerelease: readonly string[];
  /** Build metadata (after '+'): kept, but never part of precedence. */
  build: readonly string[];
}

const NUMBER = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMBER}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const SEMVER = new RegExp(
  `^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);
// Versions end up in file names (<name>-<version>.airlock); nobody needs more.
const MAX_LENGTH = 128;

export function parseSemver(text: string): SemVer | undefined {
  if (text.length > MAX_LENGTH) return undefined;
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [, major = '', minor = '', patch = '', prerelease, build] = match;
  return {
    major,
    minor,
    patch,
    prerelease: prerelease === undefined ? [] : prerelease.split('.'),
    build: build === undefined ? [] : build.split('.'),
  };
}

export function isSemver(text: string): boolean {
  return parseSemver(text) !== undefined;
}

const isNumeric = (id: string): boolean => /^\d+$/.test(id);

/** Digit strings without leading zeros: the longer is larger, equal lengths compare like text. */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = isNumeric(a);
  const bNumeric = isNumeric(b);
  if (aNumeric && bNumeric) return compareNumeric(a, b);
  // Numeric identifiers always have lower precedence than alphanumeric ones.
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSemver(a: SemVer, b: SemVer): number {
  const core = compareNumeric(a.major, b.major) || compareNumeric(a.minor, b.minor) || compareNumeric(a.patch, b.patch);
  if (core !== 0) return core;
  // A pre-release sorts before the release it leads up to.
  if (a.prerelease.length === 0) return b.prerelease.length === 0 ? 0 : 1;
  if (b.prerelease.length === 0) return -1;
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const order = compareIdentifiers(a.prerelease[i] as string, b.prerelease[i] as string);
    if (order !== 0) return order;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/**
 * Semver precedence of two version strings: negative if a < b, 0 if equal (build
 * metadata ignored, so 1.0.0+a equals 1.0.0+b), positive if a > b.
 * Throws MANIFEST_INVALID naming the version that is not semver.
 */
export function compareVersions(a: string, b: string): number {
  return compareSemver(requireSemver(a), requireSemver(b));
}

function requireSemver(text: string): SemVer {
  const parsed = parseSemver(text);
  if (!parsed) throw new AirlockError('MANIFEST_INVALID', `"${text}" is not a semantic version (expected e.g. 1.4.0 or 2.0.0-rc.1)`);
  return parsed;
}

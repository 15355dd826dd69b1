import type { ErrorCode } from './base/errors.js';

/**
 * Exit codes by failure class, so scripts can branch without parsing text.
 * Documented in docs/EXIT-CODES.md; keep the two in step. 1 is left for
 * unexpected crashes, 2 for usage errors (commander's own convention).
 */
const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  INPUT_NOT_FOUND: 3,
  INPUT_CHANGED: 3,
  MANIFEST_INVALID: 4,
  SITE_INVALID: 4,
  TRUST_STORE_INVALID: 4,
  KEY_INVALID: 5,
  KEY_EXISTS: 5,
  PASSPHRASE_REQUIRED: 5,
  PASSPHRASE_WRONG: 5,
  BUNDLE_FORMAT: 10,
  BUNDLE_TRUNCATED: 11,
  UNSAFE_PATH: 12,
  UNSAFE_ENTRY: 12,
  SIGNATURE_MISSING: 20,
  SIGNATURE_INVALID: 21,
  SIGNATURE_UNTRUSTED: 22,
  KEY_REVOKED: 22,
  POLICY_THRESHOLD: 23,
  CERTIFICATE_INVALID: 24,
  CERTIFICATE_EXPIRED: 25,
  CERTIFICATE_UNTRUSTED: 26,
  CERTIFICATE_REVOKED: 27,
  CERTIFICATE_USAGE: 28,
  DIGEST_MISMATCH: 30,
  FILE_MISSING: 31,
  FILE_EXTRA: 32,
  FILE_DUPLICATE: 33,
  EXPIRED: 40,
  WRONG_TARGET: 41,
  DOWNGRADE: 42,
  REGISTRY_UNREACHABLE: 50,
  REGISTRY_AUTH: 51,
  REGISTRY_ERROR: 52,
  IMAGE_NOT_FOUND: 53,
  IMAGE_INVALID: 54,
  INSTALL_LOCKED: 60,
  VARIABLE_MISSING: 61,
  MIGRATION_CHANGED: 62,
  MIGRATION_FAILED: 63,
  HOOK_FAILED: 64,
  HEALTH_CHECK_FAILED: 65,
  JOURNAL_INVALID: 66,
  NOTHING_TO_ROLL_BACK: 67,
  INSTALL_INTERRUPTED: 68,
  DATABASE_UNREACHABLE: 69,
  VOLUME_MISSING: 70,
  VOLUME_CORRUPT: 71,
  LISTEN_FAILED: 75,
  ABORTED: 80,
  INTERNAL: 1,
};

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code];
}

export function exitCodeTable(): ReadonlyArray<[ErrorCode, number]> {
  return Object.entries(EXIT_CODES) as Array<[ErrorCode, number]>;
}

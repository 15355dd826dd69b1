/**
 * The one error type of airlock. `code` is stable (scripts and tests match on it);
 * the message names the file, field, key or volume at fault. Exit codes are assigned
 * from the code in the CLI only (src/exit-codes.ts), never here. The codes are a list as well
 * as a type, so that records read back from disk (the install journal) are checked against it.
 */
export const ERROR_CODES = [
  // input and usage
  'USAGE',
  'INPUT_NOT_FOUND',
  'INPUT_CHANGED',
  'MANIFEST_INVALID',
  'SITE_INVALID',
  'TRUST_STORE_INVALID',
  // keys and passphrases
  'KEY_INVALID',
  'KEY_EXISTS',
  'PASSPHRASE_REQUIRED',
  'PASSPHRASE_WRONG',
  // bundle structure
  'BUNDLE_FORMAT',
  'BUNDLE_TRUNCATED',
  'UNSAFE_PATH',
  'UNSAFE_ENTRY',
  // trust
  'SIGNATURE_MISSING',
  'SIGNATURE_INVALID',
  'SIGNATURE_UNTRUSTED',
  'KEY_REVOKED',
  'POLICY_THRESHOLD',
  'CERTIFICATE_INVALID',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_UNTRUSTED',
  'CERTIFICATE_REVOKED',
  'CERTIFICATE_USAGE',
  // content
  'DIGEST_MISMATCH',
  'FILE_MISSING',
  'FILE_EXTRA',
  'FILE_DUPLICATE',
  // freshness and targeting
  'EXPIRED',
  'WRONG_TARGET',
  'DOWNGRADE',
  // images and registries
  'REGISTRY_UNREACHABLE',
  'REGISTRY_TIMEOUT',
  'REGISTRY_AUTH',
  'REGISTRY_ERROR',
  'IMAGE_NOT_FOUND',
  'IMAGE_INVALID',
  // telemetry (Prometheus health gates)
  'TELEMETRY_UNREACHABLE',
  'TELEMETRY_AUTH',
  'TELEMETRY_QUERY_FAILED',
  // upstream image evidence (docs/SUPPLY-CHAIN.md)
  'IMAGE_POLICY',
  'IMAGE_SIGNATURE_INVALID',
  // delta releases
  'RECEIPT_INVALID',
  'DELTA_BASE_MISSING',
  // install
  'INSTALL_LOCKED',
  'VARIABLE_MISSING',
  'MIGRATION_CHANGED',
  'MIGRATION_FAILED',
  'HOOK_FAILED',
  'HEALTH_CHECK_FAILED',
  'JOURNAL_INVALID',
  'NOTHING_TO_ROLL_BACK',
  'INSTALL_INTERRUPTED',
  'DATABASE_UNREACHABLE',
  'DATABASE_AUTH',
  // media
  'VOLUME_MISSING',
  'VOLUME_CORRUPT',
  // serve
  'LISTEN_FAILED',
  'ABORTED',
  // the local filesystem (src/fs/file-fault.ts)
  'DISK_FULL',
  'PERMISSION_DENIED',
  'READ_ONLY_FILESYSTEM',
  'NOT_A_DIRECTORY',
  'IS_A_DIRECTORY',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AirlockError extends Error {
  override readonly name = 'AirlockError';
  readonly code: ErrorCode;
  /** Extra lines shown with --verbose (never secrets). */
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }
}

export function isAirlockError(value: unknown, code?: ErrorCode): value is AirlockError {
  return value instanceof AirlockError && (code === undefined || value.code === code);
}

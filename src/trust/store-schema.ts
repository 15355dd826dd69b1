/** trust.yaml: the policy file of a trust store directory (layout in keys/README.md). */
import { z } from 'zod';

export const TRUST_FILE = 'trust.yaml';
export const REVOKED_FILE = 'revoked.txt';
/** Without trust.yaml, every file with this suffix in the directory is trusted (threshold 1, no roles). */
export const PUBLIC_KEY_SUFFIX = '.pub.pem';

export const roleName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a role name such as build or security');
const keyId = z.string().regex(/^[0-9a-f]{64}$/, 'expected a key id: 64 lowercase hex digits');

/** A file inside the trust store directory: relative, no `..`. */
export const storeFile = z
  .string()
  .min(1)
  .refine((file) => !file.startsWith('/') && !file.split(/[\\/]/).includes('..'), 'must be a path inside the trust store directory');

export const trustedKeyEntrySchema = z.strictObject({
  /** Public key (SPKI PEM) file, relative to the trust store directory. */
  file: storeFile,
  name: z.string().min(1),
  roles: z.array(roleName).default([]),
  /** Optional pin: loading fails if the file's key id differs (a swapped file is caught). */
  keyId: keyId.optional(),
});

export const trustFileSchema = z.strictObject({
  /** Trust store version; only ever goes up (signed updates replace N with N+1). */
  version: z.number().int().min(1),
  /** Distinct trusted keys whose signatures must verify (M of N). */
  threshold: z.number().int().min(1),
  /** Roles that at least one counted signature must hold each. */
  requiredRoles: z.array(roleName).default([]),
  keys: z.array(trustedKeyEntrySchema).min(1),
});

export type TrustFile = z.infer<typeof trustFileSchema>;
export type TrustedKeyEntry = z.infer<typeof trustedKeyEntrySchema>;

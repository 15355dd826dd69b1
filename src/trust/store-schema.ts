/** trust.yaml: the policy file of a trust store directory (layout in keys/README.md). */
import { z } from 'zod';
import { KEY_ID_PATTERN } from '../bundle/format.js';

export const TRUST_FILE = 'trust.yaml';
export const REVOKED_FILE = 'revoked.txt';
/** The site's image policy (trust/image-policy-file.ts), when the store has one. */
export const IMAGE_POLICY_FILE = 'images.yaml';
/** Without trust.yaml, every file with this suffix in the directory is trusted (threshold 1, no roles). */
export const PUBLIC_KEY_SUFFIX = '.pub.pem';

export const roleName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a role name such as build or security');
const keyId = z.string().regex(KEY_ID_PATTERN, 'expected a key id: 64 lowercase hex digits');

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

const serial = z.string().regex(/^(0x)?[0-9a-fA-F:]+$/, 'expected a certificate serial number in hex');

export const authorityEntrySchema = z.strictObject({
  /** CA certificate (PEM), relative to the trust store directory. */
  file: storeFile,
  name: z.string().min(1),
  /** Roles this CA may grant; a certificate asks for them in its subject OU. */
  roles: z.array(roleName).default([]),
  /** Serials of certificates this CA issued that are no longer trusted. */
  revokedSerials: z.array(serial).default([]),
});

export const rootKeyEntrySchema = z.strictObject({ file: storeFile, name: z.string().min(1), keyId: keyId.optional() });

/** Keys that sign trust-store updates (airlock keys update); they do not sign releases unless also under keys. */
export const rootSchema = z.strictObject({
  threshold: z.number().int().min(1),
  keys: z.array(rootKeyEntrySchema).min(1),
});

export const trustFileSchema = z
  .strictObject({
    /** Trust store version; only ever goes up (signed updates replace N with N+1). */
    version: z.number().int().min(1),
    /** Distinct trusted signers whose signatures must verify (M of N). */
    threshold: z.number().int().min(1),
    /** Roles that at least one counted signature must hold each. */
    requiredRoles: z.array(roleName).default([]),
    keys: z.array(trustedKeyEntrySchema).default([]),
    authorities: z.array(authorityEntrySchema).default([]),
    root: rootSchema.optional(),
  })
  .superRefine((file, context) => {
    if (file.keys.length === 0 && file.authorities.length === 0) {
      context.addIssue({ code: 'custom', path: ['keys'], message: 'list at least one key (or a certificate authority under authorities)' });
    }
    if (file.root !== undefined && file.root.threshold > file.root.keys.length) {
      context.addIssue({ code: 'custom', path: ['root', 'threshold'], message: `${file.root.threshold} but only ${file.root.keys.length} root key(s) listed: it can never be met` });
    }
  });

export type TrustFile = z.infer<typeof trustFileSchema>;
export type TrustedKeyEntry = z.infer<typeof trustedKeyEntrySchema>;
export type AuthorityEntry = z.infer<typeof authorityEntrySchema>;

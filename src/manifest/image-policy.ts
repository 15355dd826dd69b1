/**
 * An image signature policy, as people write it (release manifest, the site's trust store) and
 * as airlock.json carries it. Either a cosign public key or a keyless identity (certificate SAN
 * and OIDC issuer, checked against a Sigstore trusted root), optionally with attestation types
 * (in-toto predicate types) that must be present and signed the same way (docs/SUPPLY-CHAIN.md).
 */
import { z } from 'zod';

const attestations = z.array(z.string().min(1, 'expected an in-toto predicate type such as https://slsa.dev/provenance/v1')).optional();

/** `identity` is matched whole; written as `/.../` it is a regular expression that must match the whole SAN. */
export const writtenImagePolicySchema = z
  .strictObject({
    /** A cosign public key (PEM), relative to the file that names it. */
    key: z.string().min(1).optional(),
    identity: z.string().min(1).optional(),
    issuer: z.string().min(1).optional(),
    attestations,
  })
  .superRefine((policy, context) => {
    const keyless = policy.identity !== undefined || policy.issuer !== undefined;
    if (policy.key !== undefined && keyless) context.addIssue({ code: 'custom', message: 'give either key, or identity and issuer, not both' });
    else if (policy.key === undefined && !keyless) context.addIssue({ code: 'custom', message: 'give key, or identity and issuer' });
    else if (keyless && (policy.identity === undefined || policy.issuer === undefined)) {
      context.addIssue({ code: 'custom', message: 'a keyless policy needs both identity (certificate SAN) and issuer (OIDC issuer URL)' });
    }
    if (policy.identity?.startsWith('/') && policy.identity.endsWith('/') && policy.identity.length > 2) {
      try {
        new RegExp(policy.identity.slice(1, -1));
      } catch (error) {
        context.addIssue({ code: 'custom', path: ['identity'], message: `not a regular expression: ${(error as Error).message}` });
      }
    }
  });

export type WrittenImagePolicy = z.infer<typeof writtenImagePolicySchema>;

/** The policy as airlock.json carries it: a key travels as a bundle file named by its key id. */
export const bundleImagePolicySchema = z.object({
  key: z.object({ path: z.string().min(1), keyId: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  identity: z.string().min(1).optional(),
  issuer: z.string().min(1).optional(),
  attestations: z.array(z.string().min(1)),
});

export type BundleImagePolicy = z.infer<typeof bundleImagePolicySchema>;

/** One image signer as people are shown it: a key by its id, or a keyless certificate's identity and issuer. */
export const imageSignerSchema = z.union([
  z.object({ keyId: z.string() }),
  z.object({ identity: z.string(), issuer: z.string() }),
]);

export type ImageSigner = z.infer<typeof imageSignerSchema>;

export function describeSigner(signer: ImageSigner): string {
  return 'keyId' in signer ? `key ${signer.keyId}` : `${signer.identity} (issuer ${signer.issuer})`;
}

export function describePolicy(policy: Pick<BundleImagePolicy, 'identity' | 'issuer' | 'attestations'> & { key?: { keyId: string } | undefined }): string {
  const who = policy.key ? `signed by key ${policy.key.keyId}` : `signed by ${policy.identity} (issuer ${policy.issuer})`;
  return policy.attestations.length === 0 ? who : `${who}, with attestations ${policy.attestations.join(', ')}`;
}

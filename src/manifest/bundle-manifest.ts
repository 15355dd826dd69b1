/**
 * airlock.json: the bundle manifest, written by build and read (zod-validated) by
 * verify, inspect and install. It names what the payload means; file digests live
 * in SHA256SUMS only, so this document can be written before any payload is hashed.
 */
import { z } from 'zod';
import { FORMAT_VERSION } from '../bundle/format.js';
import { healthGateSchema } from './health-gate.js';
import { bundleImagePolicySchema, imageSignerSchema } from './image-policy.js';
import { deltaSchema } from './delta.js';

const isoTime = z.iso.datetime({ offset: false });
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
const bundlePath = z.string().min(1);

const configFileSchema = z.object({
  /** Path of the file inside the bundle (configs/<env>/...). */
  path: bundlePath,
  /** Destination relative to the site's config root. */
  dest: z.string().min(1),
  /** File mode on the site, octal string such as "0640". */
  mode: z.string().regex(/^0[0-7]{3}$/, 'expected an octal mode such as 0640'),
  /** Rendered with site variables before it is written. */
  template: z.boolean(),
});

const migrationSchema = z.object({
  path: bundlePath,
  version: z.string().regex(/^\d+(\.\d+)*$/, 'expected a version such as 3 or 1.2'),
  description: z.string(),
  /** Optional undo script (U<version>__<desc>.sql) used only by an explicit rollback. */
  undo: bundlePath.optional(),
});

const hookSchema = z.object({
  name: z.string().min(1),
  path: bundlePath,
  timeoutSeconds: z.number().int().positive(),
});

const imageSchema = z.object({
  /** Reference as named in the release manifest, e.g. docker.io/library/nginx:1.25. */
  ref: z.string().min(1),
  /** Digest of the top-level manifest or index stored in the bundle's OCI layout. */
  digest,
  mediaType: z.string().min(1),
  /** os/arch[/variant] of every platform kept. */
  platforms: z.array(z.string()),
  /** Bytes of every blob the image needs (shared blobs counted in each image). */
  size: z.number().int().nonnegative(),
  /** The index as published, when platform selection stored another document: its signatures name it (docs/SUPPLY-CHAIN.md). */
  upstream: z.object({ digest, mediaType: z.string().min(1), size: z.number().int().nonnegative() }).optional(),
  /** Artifacts attached upstream (signatures, attestations, SBOMs), carried in the OCI layout and pushed with the image. */
  attached: z.array(attachedSchema()).optional(),
  /** The image's signature policy, checked at build and again at install and verify. */
  verify: bundleImagePolicySchema.optional(),
  /** What the build found and checked: who signed, which attestations and SBOMs are present. */
  evidence: evidenceSchema().optional(),
});

/** An attached artifact's manifest: an OCI 1.1 referrer of `subject`, or found under cosign's `tag` (`sha256-<hex>.sig`, `.att`, `.sbom`). */
function attachedSchema() {
  return z.object({
    digest,
    mediaType: z.string().min(1),
    size: z.number().int().nonnegative(),
    subject: digest,
    artifactType: z.string().min(1).optional(),
    tag: z.string().regex(/^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/).optional(),
  });
}

function evidenceSchema() {
  return z.object({
    signers: z.array(imageSignerSchema),
    attestations: z.array(z.object({ predicateType: z.string(), digest, signedBy: z.array(imageSignerSchema) })),
    sboms: z.array(z.object({ format: z.string(), packages: z.number().int().nonnegative(), digest })),
  });
}

export const bundleManifestSchema = z.object({
  format: z.literal(FORMAT_VERSION),
  name: z.string().min(1),
  version: z.string().min(1),
  created: isoTime,
  expires: isoTime.nullable(),
  targets: z.object({
    sites: z.array(z.string()),
    environments: z.array(z.string()),
  }),
  configs: z.record(z.string(), z.array(configFileSchema)),
  migrations: z.record(z.string(), z.array(migrationSchema)),
  hooks: z.object({
    preInstall: z.array(hookSchema),
    postInstall: z.array(hookSchema),
    /** Scripts and gates on the site's metrics (`kind: prometheus`), in the order they run; the gate first, so a script never takes its place. */
    healthCheck: z.array(z.union([healthGateSchema, hookSchema])),
  }),
  images: z.array(imageSchema),
  /** What to do when a health check fails: restore the previous configs, or stop and report. */
  onHealthCheckFailure: z.enum(['rollback', 'stop']),
  builtBy: z.object({ tool: z.literal('airlock'), version: z.string() }),
  /** The Sigstore trusted root keyless image policies were checked against (a bundle path). */
  trustedRoot: bundlePath.optional(),
  /** Present only in a delta bundle: the bases it was cut against and the layer blobs it leaves out (docs/DELTA.md). */
  delta: deltaSchema.optional(),
});

export type BundleManifest = z.infer<typeof bundleManifestSchema>;
export type BundleConfigFile = z.infer<typeof configFileSchema>;
export type BundleMigration = z.infer<typeof migrationSchema>;
export type BundleHook = z.infer<typeof hookSchema>;
export type BundleHealthCheck = BundleManifest['hooks']['healthCheck'][number];
export type BundleImage = z.infer<typeof imageSchema>;
export type BundleAttached = NonNullable<BundleImage['attached']>[number];
export type ImageEvidenceSummary = NonNullable<BundleImage['evidence']>;
export type HookPhase = keyof BundleManifest['hooks'];

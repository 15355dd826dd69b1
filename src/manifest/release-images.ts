/**
 * How a release manifest names an image. `ref` is the reference recorded in the bundle
 * (and the repository it is pushed to on install). Without a local source the image is
 * pulled from the registry named by `ref`.
 */
import { z } from 'zod';
import { writtenImagePolicySchema } from './image-policy.js';

export const imageSpecSchema = z
  .strictObject({
    ref: z.string().min(1),
    /** A local OCI image layout directory (relative to the manifest); `tag` picks an image by its ref.name annotation. */
    ociLayout: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
    /** A `docker save` archive (relative to the manifest), converted to OCI at build. */
    dockerArchive: z.string().min(1).optional(),
    /** Keep only these platforms (os/arch[/variant]) of a multi-platform image; default: all. */
    platforms: z.array(z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'expected os/arch[/variant]')).optional(),
    /** Talk plain HTTP to this image's registry (only ever on explicit request). */
    insecure: z.boolean().optional(),
    /** Carry what is attached to the image upstream (referrers, cosign signatures, attestations, SBOMs); default true. */
    attached: z.boolean().optional(),
    /** This image's signature policy (replaces the manifest's top-level verify). */
    verify: writtenImagePolicySchema.optional(),
  })
  .refine((spec) => !(spec.ociLayout && spec.dockerArchive), {
    message: 'give at most one of ociLayout and dockerArchive',
  })
  .refine((spec) => spec.tag === undefined || spec.ociLayout !== undefined, {
    message: 'tag only applies with ociLayout',
    path: ['tag'],
  });

export type ImageSpec = z.infer<typeof imageSpecSchema>;

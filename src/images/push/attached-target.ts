/**
 * An image's attached artifacts pushed beside it, byte for byte, so admission controllers at the
 * site find them where they look: cosign's `sha256-<hex>.sig`/`.att`/`.sbom` tags, and OCI 1.1
 * referrers. A registry with the referrers API indexes a referrer itself (it answers the PUT with
 * `OCI-Subject`); for one without (CNCF distribution 2.x) the referrers tag `sha256-<hex>` is
 * kept up to date the way the OCI distribution spec asks clients to: read, add, put back.
 */
import type { BundleImage } from '../../manifest/bundle-manifest.js';
import { artifactFieldsSchema, digestTag, referrerDescriptor } from '../../oci/attached.js';
import { sha256Digest } from '../../oci/digest.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import type { ImageReference } from '../../oci/reference.js';
import { imageIndexSchema, type Descriptor } from '../../oci/schema.js';
import { parseJson } from '../../base/validate.js';
import { putManifest } from '../registry/manifests.js';
import { findManifest } from '../registry/referrers.js';
import type { BlobSource } from './blob-source.js';
import { imageContents, type ImageContents } from './bundle-graph.js';
import { pushToRegistry, type RegistryPush } from './registry-target.js';

export interface PlannedAttachment {
  attached: NonNullable<BundleImage['attached']>[number];
  contents: ImageContents;
}

export async function attachmentContents(source: BlobSource, image: BundleImage): Promise<PlannedAttachment[]> {
  const planned: PlannedAttachment[] = [];
  for (const attached of image.attached ?? []) {
    planned.push({ attached, contents: await imageContents(source, attached as Descriptor, `${image.ref}: attached ${attached.digest}`) });
  }
  return planned;
}

export async function pushAttachedToRegistry(push: RegistryPush, image: BundleImage, planned: PlannedAttachment[], destination: ImageReference): Promise<void> {
  for (const { attached, contents } of planned) {
    const { tag: _tag, ...repository } = destination;
    const to = attached.tag === undefined ? repository : { ...repository, tag: attached.tag };
    await pushToRegistry(push, `${image.ref}: attached ${attached.digest}`, contents, to);
    if (attached.tag !== undefined) continue;
    const top = contents.manifests.at(-1)!;
    // Pushed again by digest to learn whether the registry indexed the subject itself.
    const answer = await putManifest(push.transport, destination.repository, top.descriptor.digest, { ...top.descriptor, bytes: top.bytes }, image.ref);
    if (answer.subject === undefined) await addToReferrersTag(push, destination.repository, attached.subject, top, image.ref);
  }
}

async function addToReferrersTag(push: RegistryPush, repository: string, subject: string, referrer: ImageContents['manifests'][number], what: string): Promise<void> {
  const tag = digestTag(subject);
  const existing = await findManifest(push.transport, repository, tag, what);
  const manifests = existing ? parseJson(imageIndexSchema, existing.bytes, `${what}: referrers tag ${tag}`, 'IMAGE_INVALID').manifests : [];
  if (manifests.some((d) => d.digest === referrer.descriptor.digest)) return;
  const fields = parseJson(artifactFieldsSchema, referrer.bytes, what, 'IMAGE_INVALID');
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...manifests, referrerDescriptor(fields, referrer.descriptor)] }));
  await putManifest(push.transport, repository, tag, { bytes, digest: sha256Digest(bytes), mediaType: OCI_INDEX }, `${what}: referrers tag ${tag}`);
}

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
import { findManifest, hasReferrersApi } from '../registry/referrers.js';
import { forEachLimit, TRANSFER_CONCURRENCY } from '../../base/parallel.js';
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

/**
 * The artifacts side by side (each is small: the cost is round trips), then each subject's referrers
 * tag once. The tags are read while the artifacts go up, so only their PUT waits for them.
 */
export async function pushAttachedToRegistry(push: RegistryPush, image: BundleImage, planned: PlannedAttachment[], destination: ImageReference): Promise<void> {
  const { tag: _tag, ...repository } = destination;
  const bySubject = new Map<string, Array<ImageContents['manifests'][number]>>();
  for (const { attached, contents } of planned) {
    if (attached.tag === undefined) bySubject.set(attached.subject, [...(bySubject.get(attached.subject) ?? []), contents.manifests.at(-1)!]);
  }
  const tags = [...bySubject].map(([subject, referrers]) => {
    const listed = referrersTagListing(push, repository.repository, subject, image.ref);
    // Its failure is met below, once the artifacts are up.
    listed.catch(() => undefined);
    return { subject, referrers, listed };
  });
  await forEachLimit(planned, TRANSFER_CONCURRENCY, async ({ attached, contents }) => {
    await pushToRegistry(push, `${image.ref}: attached ${attached.digest}`, contents, attached.tag === undefined ? repository : { ...repository, tag: attached.tag });
  });
  for (const { subject, referrers, listed } of tags) {
    const manifests = await listed;
    // A registry with the referrers API lists them already; one without is told through the tag.
    if (manifests !== undefined) await addToReferrersTag(push, repository.repository, subject, referrers, manifests, image.ref);
  }
}

/** What the referrers tag of `subject` lists now, or undefined when the registry has the referrers API (and needs no tag). */
async function referrersTagListing(push: RegistryPush, repository: string, subject: string, what: string): Promise<Descriptor[] | undefined> {
  if (await hasReferrersApi(push.transport, repository, subject, what)) return undefined;
  const tag = digestTag(subject);
  const existing = await findManifest(push.transport, repository, tag, what);
  return existing ? parseJson(imageIndexSchema, existing.bytes, `${what}: referrers tag ${tag}`, 'IMAGE_INVALID').manifests : [];
}

async function addToReferrersTag(push: RegistryPush, repository: string, subject: string, referrers: Array<ImageContents['manifests'][number]>, manifests: Descriptor[], what: string): Promise<void> {
  const tag = digestTag(subject);
  const missing = referrers.filter((referrer) => !manifests.some((d) => d.digest === referrer.descriptor.digest));
  if (missing.length === 0) return;
  const added = missing.map((referrer) => referrerDescriptor(parseJson(artifactFieldsSchema, referrer.bytes, what, 'IMAGE_INVALID'), referrer.descriptor));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...manifests, ...added] }));
  await putManifest(push.transport, repository, tag, { bytes, digest: sha256Digest(bytes), mediaType: OCI_INDEX }, `${what}: referrers tag ${tag}`);
}

/**
 * What is attached to an image upstream, found while it is pulled: OCI 1.1 referrers (the
 * referrers API, else the referrers tag `sha256-<hex>`) and cosign's tags (`sha256-<hex>.sig`,
 * `.att`, `.sbom`), for the image's digest, the published index it was selected from, and each
 * platform manifest. Each artifact manifest is checked against its descriptor and stored in the
 * cache; its blobs are listed for fetching with the image's. buildx's attestation manifests need
 * no search: they are entries of the image's index, kept by resolveImage.
 */
import { isAirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';
import type { BundleAttached, BundleImage } from '../manifest/bundle-manifest.js';
import { artifactFieldsSchema, buildxAttestationSubject, COSIGN_TAG_SUFFIXES, digestTag } from '../oci/attached.js';
import { sha256Digest, verifyBytes } from '../oci/digest.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { childrenOf, parseManifest, type Descriptor } from '../oci/schema.js';
import type { Output } from '../ui/output.js';
import type { ResolvedImage } from './image-graph.js';
import { ATTACHED_TO, type OciLayout, type TaggedImage } from './layout.js';
import type { ImageSource } from './sources/source.js';

export interface AttachedArtifacts {
  attached: BundleAttached[];
  /** The artifact manifests and their blobs, each once (manifests already in the cache). */
  contents: Descriptor[];
  /** The blobs among them, still to be fetched. */
  blobs: Descriptor[];
}

export async function collectAttached(source: ImageSource, cache: OciLayout, image: ResolvedImage, output: Output): Promise<AttachedArtifacts> {
  const subjects = new Set([image.descriptor.digest, image.published.digest]);
  for (const d of image.contents) if ((isManifestType(d.mediaType) || isIndexType(d.mediaType)) && buildxAttestationSubject(d) === undefined) subjects.add(d.digest);
  const found = new Map<string, BundleAttached>();
  const contents = new Map<string, Descriptor>();
  const blobs = new Map<string, Descriptor>();
  const keep = async (subject: string, descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>, bytes: Buffer, tag?: string) => {
    const what = `${source.what}: artifact ${descriptor.digest} attached to ${subject}`;
    let parsed;
    try {
      verifyBytes(bytes, { ...descriptor, what });
      parsed = parseManifest(bytes, descriptor.mediaType, what);
    } catch (error) {
      // An attachment airlock cannot read is left behind, not a reason to refuse the image.
      if (!isAirlockError(error, 'IMAGE_INVALID')) throw error;
      output.warn(`airlock: ${error.message}; not carried`);
      return;
    }
    const fields = parseJson(artifactFieldsSchema, bytes, what, 'IMAGE_INVALID');
    if (tag === undefined && fields.subject?.digest !== subject) {
      output.warn(`airlock: ${what}: its manifest names ${fields.subject?.digest ?? 'no subject'}; not carried`);
      return;
    }
    await cache.writeBytes(bytes);
    const artifactType = fields.artifactType ?? fields.config?.mediaType;
    found.set(`${descriptor.digest} ${tag ?? ''}`, { digest: descriptor.digest, mediaType: parsed.mediaType, size: descriptor.size, subject, ...(artifactType ? { artifactType } : {}), ...(tag ? { tag } : {}) });
    contents.set(descriptor.digest, { mediaType: parsed.mediaType, digest: descriptor.digest, size: descriptor.size });
    for (const child of [...childrenOf(parsed).blobs, ...childrenOf(parsed).manifests]) {
      contents.set(child.digest, child);
      blobs.set(child.digest, child);
    }
  };

  // Each lookup is a round trip of its own: all of them at once, so an image's search costs about one.
  // The order they land in does not matter: what is kept is sorted below.
  await Promise.all(
    [...subjects].flatMap((subject) => [
      referrersOf(source, subject).then((descriptors) =>
        Promise.all(descriptors.filter((d) => isManifestType(d.mediaType)).map(async (descriptor) => keep(subject, descriptor, await source.manifest(descriptor)))),
      ),
      ...COSIGN_TAG_SUFFIXES.map(async (suffix) => {
        const tag = digestTag(subject, suffix);
        const document = await source.tagged(tag);
        if (document === undefined) return;
        const mediaType = parseManifest(document.bytes, document.contentType, `${source.what}: ${tag}`).mediaType;
        await keep(subject, { mediaType, digest: sha256Digest(document.bytes), size: document.bytes.length }, document.bytes, tag);
      }),
    ]),
  );
  const attached = [...found.values()].sort((a, b) => (a.subject + a.digest + (a.tag ?? '')).localeCompare(b.subject + b.digest + (b.tag ?? '')));
  if (attached.length > 0) output.debug(`${source.what}: ${attached.length} attached artifact(s)`);
  const byDigest = (a: Descriptor, b: Descriptor) => a.digest.localeCompare(b.digest);
  return { attached, contents: [...contents.values()].sort(byDigest), blobs: [...blobs.values()].sort(byDigest) };
}

/** The referrers API's answer, else the referrers tag `sha256-<hex>` (an index), else none. */
async function referrersOf(source: ImageSource, subject: string): Promise<Descriptor[]> {
  const listed = await source.referrers(subject);
  if (listed !== undefined) return listed;
  const fallback = await source.tagged(digestTag(subject));
  if (fallback === undefined) return [];
  const parsed = parseManifest(fallback.bytes, fallback.contentType, `${source.what}: referrers tag ${digestTag(subject)}`);
  return parsed.kind === 'index' ? parsed.index.manifests : [];
}

/**
 * The index.json entries of an image's attached artifacts, in a bundle and in an OCI layout
 * target: each annotated with the image's ref; those found under a cosign tag are also tagged
 * `<repository>:<tag>`, so `skopeo inspect oci-archive:<bundle>:<repository>:sha256-<hex>.sig` finds them.
 */
export function attachedEntries(image: Pick<BundleImage, 'ref' | 'attached'>): TaggedImage[] {
  const repository = image.ref.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return (image.attached ?? []).map((attached) => ({
    ref: attached.tag === undefined ? '' : `${repository}:${attached.tag}`,
    descriptor: { mediaType: attached.mediaType, digest: attached.digest, size: attached.size },
    annotations: { [ATTACHED_TO]: image.ref },
  }));
}

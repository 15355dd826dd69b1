/**
 * What the registry serves, worked out once at start from the layout's index.json: each image
 * ref becomes a repository and tag (the source registry's host dropped, as `airlock install`
 * maps refs into a registry), and each repository holds exactly the manifests and blobs its
 * images reach. Manifests that name a `subject` (signatures, SBOMs, attestations) join the
 * repository of their subject and are listed by the referrers API. Every manifest is read and
 * checked against its digest here; blobs are checked when they are served.
 */
import { z } from 'zod';
import { AirlockError, isAirlockError } from '../base/errors.js';
import { REF_NAME } from '../images/layout.js';
import { imageContents } from '../images/push/bundle-graph.js';
import { assertNoCollisions, mapReference } from '../images/push/repository-map.js';
import { isIndexType } from '../oci/media-types.js';
import { descriptorSchema, imageIndexSchema, type Descriptor } from '../oci/schema.js';
import { formatIssues } from '../base/validate.js';
import type { ServedContent } from './content.js';

/** A descriptor as the referrers API lists it. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Repository {
  name: string;
  /** tag -> manifest digest */
  tags: Map<string, string>;
  manifests: Set<string>;
  /** Configs, layers and the manifests themselves (distribution serves manifests as blobs too). */
  blobs: Set<string>;
  /** subject digest -> the manifests that refer to it */
  referrers: Map<string, ReferrerDescriptor[]>;
}

export interface ServedImage {
  ref: string;
  repository: string;
  tag?: string;
  digest: string;
  /** An artifact attached to another image (it names a subject): served, but nothing a runtime runs. */
  attached: boolean;
}

export interface Catalog {
  repositories: Map<string, Repository>;
  /** digest -> how the manifest is served */
  manifests: Map<string, { mediaType: string; size: number }>;
  /** digest -> bytes, for every blob any repository serves */
  sizes: Map<string, number>;
  images: ServedImage[];
  /** Entries of index.json left out, and why (a broken image does not stop the others). */
  skipped: string[];
}

/** The fields of a manifest or index that make it a referrer. */
const referrerFields = z.looseObject({
  artifactType: z.string().optional(),
  subject: descriptorSchema.optional(),
  config: z.looseObject({ mediaType: z.string() }).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

interface Entry {
  what: string;
  ref?: string;
  descriptor: Descriptor;
  manifests: Array<{ descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>; fields: z.infer<typeof referrerFields> }>;
  blobs: Descriptor[];
}

/** `host` only words the refusal of two images claiming one name (what clients would pull). */
export async function buildCatalog(content: ServedContent, host: string): Promise<Catalog> {
  const parsed = imageIndexSchema.safeParse(await content.readJson('index.json'));
  if (!parsed.success) throw new AirlockError('IMAGE_INVALID', formatIssues(`${content.name}: index.json`, parsed.error).join('\n'));
  const catalog: Catalog = { repositories: new Map(), manifests: new Map(), sizes: new Map(), images: [], skipped: [] };
  const entries: Entry[] = [];
  for (const [position, descriptor] of parsed.data.manifests.entries()) {
    const ref = descriptor.annotations?.[REF_NAME];
    const what = ref ?? `index.json entry ${position} (${descriptor.digest})`;
    try {
      entries.push(await readEntry(content, descriptor, what, ref));
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      catalog.skipped.push(error.message);
    }
  }
  tagImages(catalog, entries, host);
  joinReferrers(catalog, entries);
  for (const entry of entries) {
    const served = [...catalog.repositories.values()].some((repository) => repository.manifests.has(entry.descriptor.digest));
    if (!served && entry.ref === undefined) catalog.skipped.push(`${entry.what}: has no ref.name and is attached to no served image, so no repository holds it`);
  }
  for (const repository of catalog.repositories.values()) indexReferrers(repository, entries);
  return catalog;
}

async function readEntry(content: ServedContent, descriptor: Descriptor, what: string, ref: string | undefined): Promise<Entry> {
  const contents = await imageContents(content, descriptor, what);
  for (const blob of contents.blobs) {
    const stored = content.size(blob.digest);
    if (stored !== blob.size) throw new AirlockError('IMAGE_INVALID', `${what}: blob ${blob.digest} is ${stored} bytes in ${content.name}, ${blob.size} in its manifest`);
  }
  const manifests = contents.manifests.map(({ descriptor: stored, bytes }) => ({
    descriptor: stored,
    fields: referrerFields.parse(JSON.parse(bytes.toString('utf8'))),
  }));
  return { what, ...(ref === undefined ? {} : { ref }), descriptor, manifests, blobs: contents.blobs };
}

function repositoryNamed(catalog: Catalog, name: string): Repository {
  let repository = catalog.repositories.get(name);
  if (!repository) {
    repository = { name, tags: new Map(), manifests: new Set(), blobs: new Set(), referrers: new Map() };
    catalog.repositories.set(name, repository);
  }
  return repository;
}

function addEntry(catalog: Catalog, repository: Repository, entry: Entry): void {
  for (const { descriptor } of entry.manifests) {
    repository.manifests.add(descriptor.digest);
    repository.blobs.add(descriptor.digest);
    catalog.manifests.set(descriptor.digest, { mediaType: descriptor.mediaType, size: descriptor.size });
    catalog.sizes.set(descriptor.digest, descriptor.size);
  }
  for (const blob of entry.blobs) {
    repository.blobs.add(blob.digest);
    catalog.sizes.set(blob.digest, blob.size);
  }
}

/** Each ref as the repository and tag a runtime asks for: `registry.example/shop/app:1.0` -> `shop/app:1.0`. */
function tagImages(catalog: Catalog, entries: Entry[], host: string): void {
  const tagged: Array<{ entry: Entry; ref: string; name: ReturnType<typeof mapReference> }> = [];
  for (const entry of entries) {
    if (entry.ref === undefined) continue;
    try {
      tagged.push({ entry, ref: entry.ref, name: mapReference(entry.ref, host) });
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      catalog.skipped.push(`${entry.what}: not an image reference, so it has no repository to be served in`);
    }
  }
  assertNoCollisions(
    tagged.map(({ ref, entry }) => ({ ref, digest: entry.descriptor.digest })),
    tagged.map(({ name }) => name),
    { verb: 'served', remedy: 'serve them from separate bundles, or rename one in the release manifest' },
  );
  for (const { entry, ref, name } of tagged) {
    const repository = repositoryNamed(catalog, name.repository);
    if (name.tag !== undefined) repository.tags.set(name.tag, entry.descriptor.digest);
    addEntry(catalog, repository, entry);
    const attached = entry.manifests.some(({ descriptor, fields }) => descriptor.digest === entry.descriptor.digest && fields.subject !== undefined);
    catalog.images.push({ ref, repository: name.repository, ...(name.tag === undefined ? {} : { tag: name.tag }), digest: entry.descriptor.digest, attached });
  }
}

/** Artifacts attached to an image join its repository, and so do artifacts attached to those. */
function joinReferrers(catalog: Catalog, entries: Entry[]): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const repository of catalog.repositories.values()) {
      for (const entry of entries) {
        if (repository.manifests.has(entry.descriptor.digest)) continue;
        if (entry.manifests.some(({ fields }) => fields.subject !== undefined && repository.manifests.has(fields.subject.digest))) {
          addEntry(catalog, repository, entry);
          changed = true;
        }
      }
    }
  }
}

function indexReferrers(repository: Repository, entries: Entry[]): void {
  const listed = new Set<string>();
  for (const entry of entries) {
    for (const { descriptor, fields } of entry.manifests) {
      if (fields.subject === undefined || listed.has(descriptor.digest) || !repository.manifests.has(descriptor.digest)) continue;
      listed.add(descriptor.digest);
      const artifactType = fields.artifactType || (isIndexType(descriptor.mediaType) ? undefined : fields.config?.mediaType);
      const referrer: ReferrerDescriptor = {
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
        ...(artifactType ? { artifactType } : {}),
        ...(fields.annotations ? { annotations: fields.annotations } : {}),
      };
      const list = repository.referrers.get(fields.subject.digest) ?? [];
      list.push(referrer);
      repository.referrers.set(fields.subject.digest, list);
    }
  }
}

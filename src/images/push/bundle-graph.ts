/**
 * The images of a bundle's OCI layout, read back for pushing: index.json entries by ref, and
 * each image's manifests (children before parents, the order a registry accepts them in) and blobs.
 */
import { AirlockError } from '../../base/errors.js';
import type { BundleImage } from '../../manifest/bundle-manifest.js';
import { verifyBytes } from '../../oci/digest.js';
import { REF_NAME } from '../layout.js';
import { childrenOf, imageIndexSchema, parseManifest, type Descriptor } from '../../oci/schema.js';
import { formatIssues } from '../../base/validate.js';
import { MANIFEST_LIMIT } from '../registry/manifests.js';
import type { BlobSource } from './blob-source.js';

export interface StoredManifest {
  descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  bytes: Buffer;
}

export interface ImageContents {
  /** Every manifest and index, children first; the last is the image's own. */
  manifests: StoredManifest[];
  /** Configs and layers, each once. */
  blobs: Descriptor[];
  /** Digests among the blobs that some manifest lists as a config, and as a layer (a delta leaves out only layers). */
  configs: ReadonlySet<string>;
  layers: ReadonlySet<string>;
}

/** index.json as ref -> descriptor. */
export async function readLayoutIndex(source: BlobSource): Promise<Map<string, Descriptor>> {
  const parsed = imageIndexSchema.safeParse(await source.readJson('index.json'));
  if (!parsed.success) throw new AirlockError('IMAGE_INVALID', formatIssues('index.json', parsed.error).join('\n'));
  const byRef = new Map<string, Descriptor>();
  for (const descriptor of parsed.data.manifests) {
    const ref = descriptor.annotations?.[REF_NAME];
    if (ref !== undefined) byRef.set(ref, descriptor);
  }
  return byRef;
}

/** The index.json entry of an airlock.json image; they must agree on the digest. */
export function indexEntry(index: ReadonlyMap<string, Descriptor>, image: Pick<BundleImage, 'ref' | 'digest'>): Descriptor {
  const entry = index.get(image.ref);
  if (!entry || entry.digest !== image.digest) {
    throw new AirlockError('IMAGE_INVALID', `${image.ref}: index.json ${entry ? `names ${entry.digest}` : 'does not list it'}, airlock.json ${image.digest}`);
  }
  return entry;
}

async function readManifest(source: BlobSource, descriptor: Descriptor, what: string): Promise<Buffer> {
  if (descriptor.size > MANIFEST_LIMIT) throw new AirlockError('IMAGE_INVALID', `${what}: manifest ${descriptor.digest} is larger than ${MANIFEST_LIMIT} bytes`);
  const chunks: Buffer[] = [];
  for await (const chunk of source.open(descriptor.digest) as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  verifyBytes(bytes, { ...descriptor, what });
  return bytes;
}

export async function imageContents(source: BlobSource, top: Descriptor, what: string): Promise<ImageContents> {
  const manifests: StoredManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>();
  const configs = new Set<string>();
  const layers = new Set<string>();
  const visit = async (descriptor: Descriptor): Promise<void> => {
    if (seen.has(descriptor.digest)) return;
    seen.add(descriptor.digest);
    const bytes = await readManifest(source, descriptor, what);
    const parsed = parseManifest(bytes, descriptor.mediaType, what);
    const children = childrenOf(parsed);
    for (const child of children.manifests) await visit(child);
    for (const blob of children.blobs) blobs.set(blob.digest, blob);
    if (parsed.kind === 'manifest') {
      configs.add(parsed.manifest.config.digest);
      for (const layer of parsed.manifest.layers) layers.add(layer.digest);
    }
    manifests.push({ descriptor: { mediaType: parsed.mediaType, digest: descriptor.digest, size: descriptor.size }, bytes });
  };
  await visit(top);
  return { manifests, blobs: [...blobs.values()], configs, layers };
}

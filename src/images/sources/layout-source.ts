/** An image read from a local OCI image layout directory, picked by its ref.name annotation. */
import type { Readable } from 'node:stream';
import { AirlockError } from '../../base/errors.js';
import { parseJson } from '../../base/validate.js';
import { artifactFieldsSchema } from '../../oci/attached.js';
import { MANIFEST_LIMIT } from '../registry/manifests.js';
import { ATTACHED_TO, type OciLayout, type TaggedImage } from '../layout.js';
import type { Descriptor } from '../../oci/schema.js';
import type { ImageSource } from './source.js';

export class LayoutSource implements ImageSource {
  readonly what: string;
  private chosen: TaggedImage | undefined;

  constructor(
    private readonly layout: OciLayout,
    private readonly tag: string | undefined,
    ref: string,
  ) {
    this.what = `${ref} (OCI layout ${layout.dir}${tag === undefined ? '' : `:${tag}`})`;
  }

  async root(): Promise<{ bytes: Buffer; contentType?: string }> {
    const image = await this.pick();
    return { bytes: await this.layout.readBlob({ ...image.descriptor, what: this.what }, MANIFEST_LIMIT), contentType: image.descriptor.mediaType };
  }

  manifest(descriptor: Descriptor): Promise<Buffer> {
    return this.layout.readBlob({ ...descriptor, what: this.what }, MANIFEST_LIMIT);
  }

  async blob(descriptor: Descriptor): Promise<Readable> {
    if (!(await this.layout.hasBlob(descriptor, false))) {
      throw new AirlockError('IMAGE_INVALID', `${this.what}: blob ${descriptor.digest} is missing or has the wrong size`);
    }
    return this.layout.openBlob(descriptor.digest);
  }

  /** A layout lists referrers as untagged index.json entries whose manifest names the subject (as oras and airlock write them). */
  async referrers(digest: string): Promise<Descriptor[] | undefined> {
    const found: Descriptor[] = [];
    for (const entry of await this.layout.readIndex()) {
      if (entry.ref !== '' || !(await this.layout.hasBlob(entry.descriptor, false))) continue;
      const bytes = await this.layout.readBlob({ ...entry.descriptor, what: this.what }, MANIFEST_LIMIT);
      if (parseJson(artifactFieldsSchema, bytes, `${this.what}: ${entry.descriptor.digest}`, 'IMAGE_INVALID').subject?.digest === digest) found.push(entry.descriptor);
    }
    return found;
  }

  async tagged(tag: string): Promise<{ bytes: Buffer; contentType?: string } | undefined> {
    const entry = (await this.layout.readIndex()).find((image) => image.ref === tag);
    return entry && { bytes: await this.layout.readBlob({ ...entry.descriptor, what: this.what }, MANIFEST_LIMIT), contentType: entry.descriptor.mediaType };
  }

  retrying<T>(run: () => Promise<T>): Promise<T> {
    return run();
  }

  /** With a tag, the entry annotated with it; without, the layout's only image. */
  private async pick(): Promise<TaggedImage> {
    if (this.chosen) return this.chosen;
    const images = await this.layout.readIndex();
    const candidates = this.tag === undefined ? images.filter((image) => image.annotations?.[ATTACHED_TO] === undefined) : images.filter((image) => image.ref === this.tag);
    if (candidates.length !== 1) {
      const tags = images.map((image) => image.ref || '(untagged)').join(', ') || 'none';
      const why = this.tag === undefined ? `holds ${images.length} images; name one with tag` : candidates.length === 0 ? `has no image tagged ${this.tag}` : `has ${candidates.length} images tagged ${this.tag}`;
      throw new AirlockError('IMAGE_NOT_FOUND', `${this.what}: the layout ${why} (tags: ${tags})`);
    }
    this.chosen = candidates[0]!;
    return this.chosen;
  }
}

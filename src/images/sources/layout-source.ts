/** An image read from a local OCI image layout directory, picked by its ref.name annotation. */
import type { Readable } from 'node:stream';
import { AirlockError } from '../../base/errors.js';
import { MANIFEST_LIMIT } from '../registry/manifests.js';
import type { OciLayout, TaggedImage } from '../layout.js';
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

  retrying<T>(run: () => Promise<T>): Promise<T> {
    return run();
  }

  /** With a tag, the entry annotated with it; without, the layout's only image. */
  private async pick(): Promise<TaggedImage> {
    if (this.chosen) return this.chosen;
    const images = await this.layout.readIndex();
    const candidates = this.tag === undefined ? images : images.filter((image) => image.ref === this.tag);
    if (candidates.length !== 1) {
      const tags = images.map((image) => image.ref || '(untagged)').join(', ') || 'none';
      const why = this.tag === undefined ? `holds ${images.length} images; name one with tag` : candidates.length === 0 ? `has no image tagged ${this.tag}` : `has ${candidates.length} images tagged ${this.tag}`;
      throw new AirlockError('IMAGE_NOT_FOUND', `${this.what}: the layout ${why} (tags: ${tags})`);
    }
    this.chosen = candidates[0]!;
    return this.chosen;
  }
}

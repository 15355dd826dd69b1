/**
 * Blobs on a registry: streamed down (the caller verifies while writing), probed with HEAD,
 * mounted across repositories, and uploaded monolithically (POST then one PUT) when small or
 * in PATCH chunks when large, so a proxy's request-size limit or a flaky link costs one chunk's
 * worth of patience rather than the whole blob.
 */
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { AirlockError } from '../../base/errors.js';
import { verifiedStream } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/schema.js';
import { repositoryScope } from './auth.js';
import { errorDetail, expectStatus, type RegistryTransport } from './transport.js';

function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/** The response body of a blob GET; the caller verifies digest and size while it flows and retries the whole fetch. */
export async function openBlob(transport: RegistryTransport, repository: string, descriptor: Descriptor, what: string): Promise<Readable> {
  const response = await transport.request({ method: 'GET', url: blobPath(repository, descriptor.digest), scopes: [repositoryScope(repository, false)] });
  if (response.status === 404) {
    throw new AirlockError('IMAGE_NOT_FOUND', `${what}: blob ${descriptor.digest} not found in registry ${transport.registry}${await errorDetail(response.body)}`);
  }
  await expectStatus(response, [200], `${what}: GET blob ${descriptor.digest}`, transport.registry);
  return response.body;
}

export function blobExists(transport: RegistryTransport, repository: string, descriptor: Descriptor): Promise<boolean> {
  return transport.retrying(async () => {
    const response = await transport.request({ method: 'HEAD', url: blobPath(repository, descriptor.digest), scopes: [repositoryScope(repository, true)] });
    response.body.resume();
    if (response.status === 404) return false;
    await expectStatus(response, [200], `HEAD blob ${descriptor.digest} in ${repository}`, transport.registry);
    const length = response.headers['content-length'];
    if (length !== undefined && Number(length) !== descriptor.size) {
      throw new AirlockError('REGISTRY_ERROR', `registry ${transport.registry} holds blob ${descriptor.digest} in ${repository} with ${length} bytes, expected ${descriptor.size}`);
    }
    return true;
  });
}

/** Opens an upload session; its URL is where the bytes go. */
export async function startUpload(transport: RegistryTransport, repository: string): Promise<URL> {
  const session = await post(transport, repository, undefined);
  return session!;
}

/** Asks the registry to link a blob it already holds in `from`; undefined when it did, else the session it opened instead. */
export function mountBlob(transport: RegistryTransport, repository: string, digest: string, from: string): Promise<URL | undefined> {
  return post(transport, repository, { digest, from });
}

function post(transport: RegistryTransport, repository: string, mount: { digest: string; from: string } | undefined): Promise<URL | undefined> {
  return transport.retrying(async () => {
    const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const scopes = [repositoryScope(repository, true), ...(mount ? [repositoryScope(mount.from, false)] : [])];
    const response = await transport.request({ method: 'POST', url: `/v2/${repository}/blobs/uploads/${query}`, scopes });
    await expectStatus(response, mount ? [201, 202] : [202], `start upload to ${repository}`, transport.registry);
    response.body.resume();
    if (response.status === 201) return undefined;
    const location = response.headers.location;
    if (!location) throw new AirlockError('REGISTRY_ERROR', `registry ${transport.registry} started an upload to ${repository} without a Location`);
    return transport.resolve(location);
  });
}

export interface UploadOptions {
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
  chunkSize: number;
  /** A session already started (e.g. by a mount the registry declined). */
  location?: URL;
  onBytes?: (bytes: number) => void;
  what: string;
}

/**
 * Uploads one blob from a source that can be opened again: any transient failure restarts the
 * blob with a fresh session (a half-fed session cannot be trusted to resume at the right byte).
 * The source is verified on the way out, so a corrupt bundle file is named, not pushed.
 */
export async function uploadBlob(
  transport: RegistryTransport,
  repository: string,
  descriptor: Descriptor,
  open: () => Readable,
  options: UploadOptions,
): Promise<void> {
  let given = options.location;
  await transport.retrying(async () => {
    let location = given ?? (await startUpload(transport, repository));
    given = undefined;
    const source = verifiedStream(open(), { ...descriptor, what: options.what }, options.onBytes);
    try {
      const monolithic = descriptor.size <= options.chunkSize;
      if (!monolithic) location = await patchChunks(transport, repository, location, source, descriptor.size, options.chunkSize, options.what);
      const finish = new URL(location);
      finish.searchParams.set('digest', descriptor.digest);
      const response = await transport.request({
        method: 'PUT',
        url: finish.href,
        headers: monolithic ? { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) } : {},
        ...(monolithic ? { body: source } : {}),
        scopes: [repositoryScope(repository, true)],
      });
      await expectStatus(response, [201], `${options.what}: upload of blob ${descriptor.digest} to ${repository}`, transport.registry);
      response.body.resume();
    } finally {
      source.destroy();
    }
  });
}

async function patchChunks(
  transport: RegistryTransport,
  repository: string,
  start: URL,
  source: Readable,
  size: number,
  chunkSize: number,
  what: string,
): Promise<URL> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  let location = start;
  for (let offset = 0; offset < size; offset += chunkSize) {
    const length = Math.min(chunkSize, size - offset);
    const response = await transport.request({
      method: 'PATCH',
      url: location.href,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-range': `${offset}-${offset + length - 1}`,
      },
      body: ReadableStream.from(reader.take(length), { objectMode: false }),
      scopes: [repositoryScope(repository, true)],
    });
    await expectStatus(response, [202], `${what}: PATCH ${offset}-${offset + length - 1} to ${repository}`, transport.registry);
    response.body.resume();
    if (response.headers.location) location = transport.resolve(response.headers.location, location);
  }
  // Reading past the last byte runs the verifier's final digest check before the upload is committed.
  await reader.end();
  return location;
}

/** Hands out consecutive byte ranges of one stream as separate request bodies. */
class ChunkReader {
  private carry: Buffer | undefined;

  constructor(private readonly iterator: AsyncIterator<Buffer>) {}

  async *take(length: number): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      let chunk = this.carry;
      this.carry = undefined;
      if (!chunk) {
        const next = await this.iterator.next();
        if (next.done) return;
        chunk = next.value;
      }
      if (chunk.length > remaining) {
        this.carry = chunk.subarray(remaining);
        chunk = chunk.subarray(0, remaining);
      }
      remaining -= chunk.length;
      yield chunk;
    }
  }

  async end(): Promise<void> {
    if (this.carry) throw new Error('chunk reader ended with bytes left over');
    const next = await this.iterator.next();
    if (!next.done) throw new Error('chunk reader ended before its stream');
  }
}

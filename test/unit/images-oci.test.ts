import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { sha256Digest, verifiedStream, verifyBytes } from '../../src/oci/digest.js';
import { renderIndex } from '../../src/images/layout.js';
import { choosePlatforms, subsetIndex } from '../../src/oci/platform.js';
import { childrenOf, parseManifest, type ImageIndex } from '../../src/oci/schema.js';
import { attachedKind, describeAttached } from '../../src/oci/attached.js';

const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

const indexJson = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(1), size: 10, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(2), size: 11, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(3), size: 12, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(4), size: 13, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
  ],
  annotations: { note: 'kept' },
};
const indexBytes = Buffer.from(JSON.stringify(indexJson));
const index = (parseManifest(indexBytes, undefined, 'x') as { index: ImageIndex }).index;

describe('platform selection', () => {
  it('keeps everything without a selection', () => {
    expect(choosePlatforms(index, undefined, 'x')).toEqual({ kind: 'all' });
    expect(choosePlatforms(index, [], 'x')).toEqual({ kind: 'all' });
  });

  it('pins one platform to its manifest, a variant exactly or all variants of an architecture', () => {
    expect(choosePlatforms(index, ['linux/amd64'], 'x')).toMatchObject({ kind: 'one', descriptor: { digest: d(1) } });
    expect(choosePlatforms(index, ['linux/arm/v6'], 'x')).toMatchObject({ kind: 'one', descriptor: { digest: d(3) } });
    expect(choosePlatforms(index, ['linux/arm'], 'x')).toEqual({ kind: 'subset', positions: [1, 2] });
  });

  it('builds a smaller index from the published descriptors, deterministically', () => {
    const subset = subsetIndex(indexBytes, [0, 2]);
    const parsed = JSON.parse(subset.toString()) as typeof indexJson;
    expect(parsed.manifests).toEqual([indexJson.manifests[0], indexJson.manifests[2]]);
    expect(parsed.annotations).toEqual(indexJson.annotations);
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'mediaType', 'manifests', 'annotations']);
    expect(subsetIndex(indexBytes, [0, 2]).equals(subset)).toBe(true);
  });

  it('names the platforms an index has when the wanted one is missing, leaving attestations out', () => {
    expect(() => choosePlatforms(index, ['linux/s390x'], 'docker.io/library/x:1')).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_FOUND', message: 'docker.io/library/x:1: no manifest for platform linux/s390x (the index has linux/amd64, linux/arm/v7, linux/arm/v6)' }),
    );
  });
});

describe('manifests', () => {
  it('takes the media type from the document, then the declared one, then the shape', () => {
    expect(parseManifest(indexBytes, 'application/json', 'x').mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const bare = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'c', digest: d(5), size: 2 }, layers: [] }));
    expect(parseManifest(bare, undefined, 'x').mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(parseManifest(bare, 'application/vnd.docker.distribution.manifest.v2+json', 'x').mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it('refuses schema 1, unknown types and malformed descriptors, naming the image', () => {
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }));
    expect(() => parseManifest(schema1, undefined, 'old:1')).toThrow(expect.objectContaining({ code: 'IMAGE_INVALID', message: expect.stringContaining('old:1: Docker schema 1') }));
    expect(() => parseManifest(Buffer.from('{"mediaType":"text/plain"}'), undefined, 'x')).toThrow(expect.objectContaining({ message: 'x: unsupported manifest media type text/plain' }));
    const badDigest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'c', digest: 'sha256:../../etc', size: 2 }, layers: [] }));
    expect(() => parseManifest(badDigest, undefined, 'x')).toThrow(expect.objectContaining({ code: 'IMAGE_INVALID', message: expect.stringContaining('config.digest') }));
    expect(() => parseManifest(Buffer.from('not json'), undefined, 'x')).toThrow(expect.objectContaining({ message: 'x: not valid JSON' }));
  });

  it('lists what a manifest points at: index entries to walk, artifacts and layers to carry', () => {
    const withArtifact = { ...indexJson, manifests: [...indexJson.manifests, { mediaType: 'application/vnd.example.sbom', digest: d(9), size: 5 }] };
    const children = childrenOf(parseManifest(Buffer.from(JSON.stringify(withArtifact)), undefined, 'x'));
    expect(children.manifests.map((m) => m.digest)).toEqual([d(1), d(2), d(3), d(4)]);
    expect(children.blobs.map((m) => m.digest)).toEqual([d(9)]);
  });
});

describe('index.json for the bundle', () => {
  it('sorts by ref byte-wise with a fixed key order', () => {
    const images = [
      { ref: 'docker.io/library/nginx:1.25', descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d(2), size: 2 } },
      { ref: 'Zed:1', descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(1), size: 1 } },
    ];
    const bytes = renderIndex(images);
    expect(renderIndex([...images].reverse()).equals(bytes)).toBe(true);
    const parsed = JSON.parse(bytes.toString()) as { manifests: Array<Record<string, unknown>> };
    expect(parsed.manifests.map((m) => (m.annotations as Record<string, string>)['org.opencontainers.image.ref.name'])).toEqual(['Zed:1', 'docker.io/library/nginx:1.25']);
    expect(Object.keys(parsed.manifests[0]!)).toEqual(['mediaType', 'digest', 'size', 'annotations']);
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'mediaType', 'manifests']);
  });
});

describe('digest checks while streaming', () => {
  const data = Buffer.from('layer bytes '.repeat(1000));
  const expected = { digest: sha256Digest(data), size: data.length, what: 'example.com/app:1' };
  const drain = (source: Readable) =>
    pipeline(
      source,
      new Writable({
        write: (_chunk, _encoding, callback) => callback(),
      }),
    );
  const chunks = (buffer: Buffer) => Readable.from([buffer.subarray(0, 5000), buffer.subarray(5000)]);

  it('passes matching bytes through', async () => {
    let counted = 0;
    await drain(verifiedStream(chunks(data), expected, (n) => (counted += n)));
    expect(counted).toBe(data.length);
  });

  it('fails on different bytes, extra bytes and missing bytes, naming the image and digest', async () => {
    const changed = Buffer.from(data);
    changed[7] = 0;
    await expect(drain(verifiedStream(chunks(changed), expected))).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringMatching(/^example.com\/app:1: blob sha256:[0-9a-f]{64} does not match its digest/),
    });
    await expect(drain(verifiedStream(chunks(Buffer.concat([data, Buffer.from('x')])), expected))).rejects.toMatchObject({ message: expect.stringContaining(`has ${data.length + 1} bytes`) });
    await expect(drain(verifiedStream(chunks(data.subarray(1)), expected))).rejects.toMatchObject({ message: expect.stringContaining(`has ${data.length - 1} bytes, expected ${data.length}`) });
  });

  it('checks small documents in memory the same way', () => {
    expect(() => verifyBytes(data, expected)).not.toThrow();
    expect(() => verifyBytes(Buffer.from('x'), expected)).toThrow(expect.objectContaining({ code: 'IMAGE_INVALID' }));
  });
});

describe('what an attached artifact is, for plans and receipts', () => {
  const hex = 'a'.repeat(64);
  it("reads cosign's tag first, then the referrer's artifact type", () => {
    expect(attachedKind({ tag: `sha256-${hex}.sig` })).toBe('signature');
    expect(attachedKind({ tag: `sha256-${hex}.att`, artifactType: 'application/spdx+json' })).toBe('attestation');
    expect(attachedKind({ tag: `sha256-${hex}.sbom` })).toBe('SBOM');
    expect(attachedKind({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' })).toBe('Sigstore bundle');
    expect(attachedKind({ artifactType: 'application/vnd.cyclonedx+json' })).toBe('SBOM');
    expect(attachedKind({ artifactType: 'application/vnd.in-toto+json' })).toBe('attestation');
    expect(attachedKind({ artifactType: 'application/vnd.example.thing' })).toBe('artifact');
    expect(attachedKind({})).toBe('artifact');
  });

  it('counts them by kind, signatures first whatever order they come in', () => {
    expect(describeAttached([{ artifactType: 'application/spdx+json' }, { tag: `sha256-${hex}.sig` }, { artifactType: 'text/spdx' }, { tag: `sha256-${hex}.att` }])).toBe(
      '1 signature, 1 attestation, 2 SBOMs',
    );
  });
});

/**
 * What the `airlock serve` tests serve: the test images (two images sharing a base layer, a
 * two-platform index, a several-layer image) plus two artifacts attached to app1 (a signature
 * with an artifactType, an SBOM typed only by its config), built by the real CLI into a signed bundle.
 */
import { join } from 'node:path';
import { makeFixture, type Fixture } from './install-fixture.js';
import { makeTestImages, type Descriptor, type TestImages } from './images.js';

export const SIGNATURE_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const SBOM_CONFIG_TYPE = 'application/vnd.example.sbom.config.v1+json';

export interface ServeFixture {
  fixture: Fixture;
  images: TestImages;
  signature: Descriptor;
  sbom: Descriptor;
  bundle: string;
  /** Every ref of the bundle, with the digest it must be served under. */
  refs: Record<string, string>;
}

/** registry.example.internal/shop/<name> */
export const SHOP = 'registry.example.internal/shop';

export async function makeServeFixture(options: { bigLayerSize?: number } = {}): Promise<ServeFixture> {
  const fixture = await makeFixture();
  let signature: Descriptor | undefined;
  let sbom: Descriptor | undefined;
  const images = await makeTestImages(join(fixture.dir, 'src', 'images-layout'), {
    ...options,
    extend: (builder, made) => {
      signature = builder.artifact(made.app1.descriptor, {
        artifactType: SIGNATURE_TYPE,
        payload: '{"critical":{"image":{"docker-manifest-digest":"' + made.app1.descriptor.digest + '"}}}',
        payloadType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ-test' },
      });
      sbom = builder.artifact(made.app1.descriptor, { configMediaType: SBOM_CONFIG_TYPE, payload: '{"bomFormat":"CycloneDX"}', payloadType: 'application/vnd.cyclonedx+json' });
      builder.tag('app1-sig', signature);
      builder.tag('app1-sbom', sbom);
    },
  });
  const hex = images.app1.descriptor.digest.slice('sha256:'.length);
  const entries: Array<[string, string, Descriptor]> = [
    [`${SHOP}/app1:1.0`, 'app1', images.app1.descriptor],
    [`${SHOP}/app1:latest`, 'app1', images.app1.descriptor],
    [`${SHOP}/app1:stable`, 'app1', images.app1.descriptor],
    [`${SHOP}/app1:sha256-${hex}.sig`, 'app1-sig', signature!],
    [`${SHOP}/app1:sha256-${hex}.sbom`, 'app1-sbom', sbom!],
    [`${SHOP}/app2:1.0`, 'app2', images.app2.descriptor],
    [`${SHOP}/multi:1.0`, 'multi', images.multi.descriptor],
    ['docker.io/library/big:2', 'big', images.big.descriptor],
  ];
  const manifest = [
    'name: shop',
    'version: 1.0.0',
    'targets:',
    '  environments: [prod]',
    'images:',
    ...entries.map(([ref, tag]) => `  - { ref: "${ref}", ociLayout: images-layout, tag: ${tag} }`),
    '',
  ].join('\n');
  const bundle = await fixture.build(manifest);
  return { fixture, images, signature: signature!, sbom: sbom!, bundle, refs: Object.fromEntries(entries.map(([ref, , descriptor]) => [ref, descriptor.digest])) };
}

/** The name a runtime pulls a ref by from the server: the source registry's host replaced by `host`. */
export function servedAs(host: string, ref: string): string {
  return `${host}/${ref.slice(ref.indexOf('/') + 1)}`;
}

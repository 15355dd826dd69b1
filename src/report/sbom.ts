/**
 * The release's SBOM as CycloneDX 1.6 JSON, made with @cyclonedx/cyclonedx-library: the release
 * is the root component; each image a container component (its `pkg:oci` purl, the digest as
 * SHA-256, its platforms, upstream signers and attestations as properties, and each upstream
 * SBOM it carries linked as an external `bom` reference to the blob in the bundle, with its
 * hash); configs, migrations and hooks are file components with their SHA-256 from SHA256SUMS.
 * The same bundle always gives the same document (serial number and time come from the bundle).
 */
import * as Enums from '@cyclonedx/cyclonedx-library/Enums';
import * as Models from '@cyclonedx/cyclonedx-library/Models';
import * as Serialize from '@cyclonedx/cyclonedx-library/Serialize';
import * as Spec from '@cyclonedx/cyclonedx-library/Spec';
import { PackageURL } from 'packageurl-js';
import { BLOBS_DIR } from '../bundle/format.js';
import type { BundleImage, BundleManifest, ImageEvidenceSummary } from '../manifest/bundle-manifest.js';
import { describeSigner } from '../manifest/image-policy.js';
import { digestHex } from '../oci/digest.js';
import { parseReference } from '../oci/reference.js';
import { VERSION } from '../base/version.js';

export interface SbomInputs {
  manifest: BundleManifest;
  /** path -> hex digest, from the signed SHA256SUMS. */
  checksums: ReadonlyMap<string, string>;
  /** SHA-256 of SHA256SUMS. */
  checksumsDigest: string;
  /** Each image's evidence by ref: as verify judged it, or as airlock.json records the build's findings. */
  evidence: ReadonlyMap<string, ImageEvidenceSummary | undefined>;
}

const SHA256 = Enums.HashAlgorithm['SHA-256'];

export function releaseSbom(inputs: SbomInputs): string {
  const { manifest } = inputs;
  const bom = new Models.Bom();
  bom.serialNumber = serialNumber(inputs.checksumsDigest);
  bom.metadata.timestamp = new Date(manifest.created);
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'airlock', { version: VERSION }));
  const root = new Models.Component(Enums.ComponentType.Application, manifest.name, {
    version: manifest.version,
    bomRef: `release:${manifest.name}@${manifest.version}`,
    properties: new Models.PropertyRepository([new Models.Property('airlock:contentDigest', inputs.checksumsDigest)]),
  });
  bom.metadata.component = root;
  for (const image of manifest.images) addComponent(bom, root, imageComponent(image, inputs.evidence.get(image.ref)));
  for (const [environment, files] of Object.entries(manifest.configs)) {
    for (const file of files) addComponent(bom, root, fileComponent(file.path, inputs.checksums, { 'airlock:kind': 'config', 'airlock:environment': environment, 'airlock:dest': file.dest }));
  }
  for (const [database, migrations] of Object.entries(manifest.migrations)) {
    for (const migration of migrations) {
      for (const path of [migration.path, ...(migration.undo ? [migration.undo] : [])]) {
        addComponent(bom, root, fileComponent(path, inputs.checksums, { 'airlock:kind': 'migration', 'airlock:database': database }));
      }
    }
  }
  for (const [phase, hooks] of Object.entries(manifest.hooks)) {
    for (const hook of hooks) {
      // A health gate is a query, not a file.
      if ('path' in hook) addComponent(bom, root, fileComponent(hook.path, inputs.checksums, { 'airlock:kind': 'hook', 'airlock:phase': phase }));
    }
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

function addComponent(bom: Models.Bom, root: Models.Component, component: Models.Component): void {
  bom.components.add(component);
  root.dependencies.add(component.bomRef);
}

function imageComponent(image: BundleImage, evidence: ImageEvidenceSummary | undefined): Models.Component {
  const reference = parseReference(image.ref);
  const name = reference.repository.split('/').at(-1)!;
  const purl = new PackageURL('oci', undefined, name, image.digest, {
    repository_url: `${reference.registry}/${reference.repository}`,
    ...(reference.tag ? { tag: reference.tag } : {}),
  });
  const properties = [
    new Models.Property('airlock:ref', image.ref),
    new Models.Property('airlock:mediaType', image.mediaType),
    ...image.platforms.map((platform) => new Models.Property('airlock:platform', platform)),
    ...(evidence?.signers ?? []).map((signer) => new Models.Property('airlock:signer', describeSigner(signer))),
    ...(evidence?.attestations ?? []).map(
      (a) => new Models.Property('airlock:attestation', `${a.predicateType} (${a.signedBy.length === 0 ? 'unsigned' : `signed by ${a.signedBy.map(describeSigner).join(', ')}`})`),
    ),
  ];
  const sboms = (evidence?.sboms ?? []).map(
    (sbom) =>
      new Models.ExternalReference(`${BLOBS_DIR}${digestHex(sbom.digest)}`, Enums.ExternalReferenceType.BOM, {
        comment: `upstream SBOM carried in the bundle: ${sbom.format}, ${sbom.packages} packages`,
        hashes: new Models.HashDictionary([[SHA256, digestHex(sbom.digest)]]),
      }),
  );
  return new Models.Component(Enums.ComponentType.Container, reference.repository, {
    bomRef: `image:${image.ref}`,
    version: reference.tag ?? image.digest,
    purl: purl.toString(),
    hashes: new Models.HashDictionary([[SHA256, digestHex(image.digest)]]),
    properties: new Models.PropertyRepository(properties),
    externalReferences: new Models.ExternalReferenceRepository(sboms),
  });
}

function fileComponent(path: string, checksums: ReadonlyMap<string, string>, properties: Record<string, string>): Models.Component {
  const hex = checksums.get(path);
  return new Models.Component(Enums.ComponentType.File, path, {
    bomRef: `file:${path}`,
    ...(hex ? { hashes: new Models.HashDictionary([[SHA256, hex]]) } : {}),
    properties: new Models.PropertyRepository(Object.entries(properties).map(([name, value]) => new Models.Property(name, value))),
  });
}

/** A name-based UUID (version 5 layout) from the content digest: one release, one serial number. */
function serialNumber(hex: string): string {
  const v = `${hex.slice(0, 12)}5${hex.slice(13, 16)}${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 32)}`;
  return `urn:uuid:${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}

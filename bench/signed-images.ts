/**
 * The images benchmark's upstream evidence: every image signed (a cosign `.sig` by an openssl
 * P-256 key), attested (a cosign `.att` DSSE SLSA provenance) and given an SPDX SBOM as an OCI
 * 1.1 referrer (with the referrers tag, the registry having no referrers API), made with the
 * tests' helpers and pushed with skopeo, as an upstream vendor would have published them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayoutBuilder, type Descriptor } from '../test/support/images.js';
import {
  cosignAttestationManifest,
  cosignKeyPair,
  cosignSignatureManifest,
  opensslSign,
  pushTag,
  referrersTagIndex,
  signedEnvelope,
  simpleSigningPayload,
  SLSA_PROVENANCE,
  statement,
  type CosignKeyPair,
} from '../test/support/supply-chain.js';

const SPDX = (name: string) => JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name, packages: Array.from({ length: 40 }, (_, i) => ({ name: `pkg-${i}`, versionInfo: '1.0' })) });

/** Signs and attests each image of the layout (`tags`, pushed as `sources`) and pushes the evidence beside it; returns the cosign key. */
export async function signAndAttest(layoutDir: string, tags: string[], sources: string[], workDir: string): Promise<CosignKeyPair> {
  const key = await cosignKeyPair(workDir, 'vendor');
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Array<Descriptor & { annotations: Record<string, string> }> };
  const builder = new LayoutBuilder();
  const pushes: Array<{ tag: string; to: string }> = [];
  for (const [i, tag] of tags.entries()) {
    const entry = index.manifests.find((d) => d.annotations['org.opencontainers.image.ref.name'] === tag)!;
    const subject: Descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
    const repository = sources[i]!.replace(/:[^/:]*$/, '');
    const payload = simpleSigningPayload(repository, subject.digest);
    const sig = cosignSignatureManifest(builder, subject.digest, [{ payload, signature: await opensslSign(key.key, payload) }]);
    const envelope = await signedEnvelope(key.key, statement(subject.digest, SLSA_PROVENANCE, { buildDefinition: { buildType: 'bench' } }));
    const att = cosignAttestationManifest(builder, subject.digest, [{ envelope, predicateType: SLSA_PROVENANCE }]);
    const sbom = builder.artifact(subject, { artifactType: 'application/spdx+json', payload: SPDX(tag), payloadType: 'application/spdx+json' });
    const referrers = referrersTagIndex(builder, subject.digest, [sbom]);
    for (const made of [sig, att, referrers]) pushes.push({ tag: made.tag, to: `${repository}:${made.tag}` });
  }
  const dir = join(workDir, 'evidence-layout');
  await builder.write(dir);
  for (const { tag, to } of pushes) await pushTag(dir, tag, to);
  return key;
}

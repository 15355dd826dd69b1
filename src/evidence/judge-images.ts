/**
 * A release's images judged against their policies: the site's rule where its trust store has
 * one for the image (images.yaml), else the policy the bundle carries; the site's Sigstore
 * trusted root, else the bundle's. The same code runs at build (the policy just written, read
 * from the image cache) and at verify and install (read from the verified bundle, offline).
 */
import { AirlockError } from '../base/errors.js';
import type { BundleImage, BundleManifest } from '../manifest/bundle-manifest.js';
import { parseCosignKey } from '../trust/cosign-key.js';
import { siteRuleFor, type SiteImagePolicy } from '../trust/image-policy-file.js';
import type { EvidenceReader } from './claims.js';
import { evaluateImage, type ImageEvidence } from './evaluate.js';
import type { ResolvedPolicy } from './policy.js';
import type { SigstoreTrust } from './sigstore.js';

export interface JudgeInputs {
  manifest: Pick<BundleManifest, 'images' | 'trustedRoot'>;
  site: SiteImagePolicy | undefined;
  /** A file the bundle carries (a policy key, the trusted root), whole and checked. */
  readFile(path: string): Promise<Buffer>;
  reader: EvidenceReader;
  /** Names the bundle's policy in messages. */
  bundleName: string;
}

export async function judgeImages(inputs: JudgeInputs): Promise<ImageEvidence[]> {
  const sigstore = await sigstoreTrust(inputs);
  const judged: ImageEvidence[] = [];
  for (const image of inputs.manifest.images) {
    judged.push(await evaluateImage({ image, policy: await policyFor(image, inputs), sigstore, reader: inputs.reader }));
  }
  return judged;
}

/** The Sigstore libraries are loaded only here, for a run with a trusted root: keyed policies need node:crypto alone. */
async function sigstoreTrust(inputs: JudgeInputs): Promise<SigstoreTrust | undefined> {
  const site = inputs.site?.trustedRoot;
  if (site === undefined && inputs.manifest.trustedRoot === undefined) return undefined;
  const { loadSigstoreTrust } = await import('./sigstore.js');
  if (site) return loadSigstoreTrust(site.data, site.file);
  const path = inputs.manifest.trustedRoot;
  return path === undefined ? undefined : loadSigstoreTrust(await inputs.readFile(path), `${inputs.bundleName}: ${path}`);
}

async function policyFor(image: BundleImage, inputs: JudgeInputs): Promise<ResolvedPolicy | undefined> {
  const rule = siteRuleFor(inputs.site, image.ref);
  if (rule) {
    const { ref: _pattern, ...policy } = rule;
    return { ...policy, source: `${inputs.site!.file}, rule ${rule.ref}` };
  }
  const verify = image.verify;
  if (verify === undefined) return undefined;
  const key = verify.key ? parseCosignKey((await inputs.readFile(verify.key.path)).toString('utf8'), `${inputs.bundleName}: ${verify.key.path}`) : undefined;
  if (key && key.keyId !== verify.key!.keyId) {
    throw new AirlockError('BUNDLE_FORMAT', `${inputs.bundleName}: ${image.ref}: verify.key names key ${verify.key!.keyId}, but ${verify.key!.path} holds key ${key.keyId}`);
  }
  return {
    source: inputs.bundleName,
    ...(key ? { key } : {}),
    ...(verify.identity ? { identity: verify.identity } : {}),
    ...(verify.issuer ? { issuer: verify.issuer } : {}),
    attestations: verify.attestations,
  };
}

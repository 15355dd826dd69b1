/**
 * What `airlock serve` is pointed at, opened and trusted before a byte is served:
 * - a bundle file or release media: verified as `airlock verify` and `airlock install` verify it
 *   (signatures against the trust store and its policy, every file's digest, expiry), read in
 *   place from its byte ranges; a bundle that does not verify is not served;
 * - the site's OCI layout target (`--site`): the site's own store, filled by verified installs.
 */
import { AirlockError } from '../base/errors.js';
import { OciLayout } from '../images/layout.js';
import { loadSite } from '../manifest/site.js';
import { loadTrustStore } from '../trust/store.js';
import { loadVerified } from '../verify/load-verified.js';
import { assertVerified } from '../verify/report.js';
import { bundleContent, layoutContent, type ServedContent } from './content.js';

export interface ServedSource {
  content: ServedContent;
  /** One line for people: what is served and on what grounds it is trusted. */
  summary: string;
  /** The same for the JSON log. */
  fields: Record<string, unknown>;
}

/** A bundle or release media, verified as `airlock verify` verifies it, its reader kept open to serve from. */
export async function openVerifiedBundle(path: string, trustDir: string, now: Date): Promise<ServedSource> {
  const trust = await loadTrustStore(trustDir);
  const loaded = await loadVerified(path, { checks: 'payload', trust, now, allowExpired: false, unreadable: 'throw' });
  try {
    const { report } = loaded;
    assertVerified(report);
    const { manifest } = report;
    const signers = report.signers.filter((signer) => signer.status === 'valid').map((signer) => signer.name ?? signer.keyId);
    return {
      content: bundleContent(loaded.reader),
      summary: `${manifest.name} ${manifest.version} from ${path} (verified against ${trustDir}: signed by ${signers.join(', ')}; release digest ${report.checksumsDigest})`,
      fields: { source: 'bundle', bundle: path, name: manifest.name, version: manifest.version, digest: report.checksumsDigest, signers },
    };
  } catch (error) {
    await loaded.close();
    throw error;
  }
}

export async function openSiteStore(siteFile: string): Promise<ServedSource> {
  const site = await loadSite(siteFile);
  const target = site.images;
  if (target?.kind !== 'oci-layout') {
    const what = target === undefined ? 'no images target' : `the registry ${target.registry} as its images target, which serves the images itself`;
    throw new AirlockError('USAGE', `${site.file}: has ${what}; airlock serve --site serves a site whose targets.images is an ociLayout directory`);
  }
  const layout = await OciLayout.open(target.dir, { create: false });
  return {
    content: layoutContent(layout),
    summary: `the image store of site ${site.site} (${site.environment}): ${target.dir}`,
    fields: { source: 'site', site: site.site, environment: site.environment, layout: target.dir },
  };
}

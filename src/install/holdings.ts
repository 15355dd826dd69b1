/**
 * What the site holds, as receipts carry it back to the connected side (docs/DELTA.md): every
 * image of every release still on the site's stack, surveyed in the site's image target
 * (src/images/held/survey.ts), with the installed release and its content digest. An install's
 * receipt gets it when the run ends; `airlock status --receipt` exports it at any time.
 */
import { isAirlockError } from '../base/errors.js';
import { openProbe } from '../images/held/probe.js';
import { surveyTarget } from '../images/held/survey.js';
import type { ImageTarget } from '../images/push/types.js';
import type { Holdings } from '../manifest/holdings.js';
import type { Output } from '../ui/output.js';
import { currentRelease, type SiteState } from './state.js';

export interface HoldingsSite {
  site: string;
  environment: string;
}

export async function siteHoldings(site: HoldingsSite, state: SiteState, target: ImageTarget | undefined, output: Output): Promise<Holdings> {
  const current = currentRelease(state);
  const surveyedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const targets = [];
  if (target !== undefined) {
    const probe = await openProbe(target, output);
    try {
      targets.push(await surveyTarget(probe, state.releases.flatMap((release) => release.images.map((image) => ({ ...image, release: release.version })))));
    } finally {
      probe.close();
    }
  }
  return {
    site: site.site,
    environment: site.environment,
    release: current ? { name: current.name, version: current.version, digest: current.bundleDigest } : null,
    surveyedAt,
    targets,
  };
}

/**
 * What an install's receipt says the site holds: surveyed when the run recorded its release (`survey`
 * given), else null. Never fails the run: a survey that cannot be made is said in the receipt and on stderr.
 */
export async function receiptHoldings(
  site: HoldingsSite,
  state: SiteState,
  survey: { target: () => ImageTarget | undefined; output: Output } | undefined,
): Promise<{ holdings: Holdings | null; holdingsError?: string }> {
  if (survey === undefined) return { holdings: null, holdingsError: 'not surveyed: this install did not end with its release recorded' };
  try {
    return { holdings: await siteHoldings(site, state, survey.target(), survey.output) };
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    const holdingsError = `${error.code}: ${error.message}`;
    survey.output.warn(`airlock: the receipt cannot say what the image target holds (${holdingsError}); export it later with airlock status --site <site.yaml> --receipt <file>`);
    return { holdings: null, holdingsError };
  }
}

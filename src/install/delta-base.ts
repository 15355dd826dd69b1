/**
 * A delta bundle on the installer's straight line: before anything on the site changes, every
 * layer blob it leaves out must be in the site's image target (registry HEAD, or the layout's blob
 * file with its size; `--verify-base` also hashes each one). Otherwise DELTA_BASE_MISSING, saying
 * how many, the first few and the images they belong to, and what to do instead. What is found
 * where is handed to the push, which then never uploads an omitted blob.
 */
import { AirlockError } from '../base/errors.js';
import type { BundleReader } from '../bundle/reader.js';
import { sha256Hex } from '../hash/digest.js';
import { locateBase, type BaseLocation, type BaseNeed } from '../images/held/locate.js';
import { openProbe } from '../images/held/probe.js';
import { readLayoutGraph } from '../images/layout-graph.js';
import { layoutJson } from '../images/push/blob-source.js';
import { bundleBlobSource, type BlobSource } from '../images/push/push.js';
import { describeBase, omittedBytes, type DeltaRecord } from '../manifest/delta.js';
import { humanBytes } from '../ui/format.js';
import type { Output } from '../ui/output.js';
import type { SignedRelease } from '../verify/verified-bundle.js';
import type { SiteState } from './state.js';
import type { SiteImages } from './targets/images.js';

/** Omitted blob digest -> the repository of the target holding it (`''` in a layout). */
export type HeldBase = ReadonlyMap<string, string>;

const SHOWN = 3;

export interface DeltaBaseCheck {
  release: SignedRelease;
  reader: BundleReader;
  images: SiteImages | undefined;
  state: SiteState;
  verifyBase: boolean;
  output: Output;
}

export async function checkDeltaBase(check: DeltaBaseCheck): Promise<HeldBase | undefined> {
  const { release, images, output } = check;
  const delta = release.manifest.delta;
  // No image target means no images: a delta that still leaves blobs out is refused when its payload is checked.
  if (delta === undefined || delta.omitted.length === 0 || images === undefined) return undefined;
  const graph = await readLayoutGraph(signedLayout(check.reader, release));
  const probe = await openProbe(images.target, output);
  try {
    const needs: BaseNeed[] = delta.omitted.map((blob) => ({
      blob,
      images: graph.images.flatMap((image) =>
        image.ref !== undefined && image.contents.blobs.some((b) => b.digest === blob.digest) ? [{ ref: image.ref, repository: probe.repository(image.ref) }] : [],
      ),
    }));
    const installed = check.state.releases.flatMap((record) => record.images.map((image) => probe.repository(image.ref)));
    const location = await locateBase(probe, needs, [...installed, ...release.manifest.images.map((image) => probe.repository(image.ref))], check.verifyBase);
    if (location.missing.length > 0) throw new AirlockError('DELTA_BASE_MISSING', baseMissing(release, delta, probe.description, location, check.verifyBase));
    output.say(
      `Delta against ${delta.bases.map(describeBase).join(' and ')}: the ${delta.omitted.length} layer blob(s) it leaves out (${humanBytes(omittedBytes(delta))}) are in ${probe.description}${check.verifyBase ? ', each re-hashed (--verify-base)' : ''}.`,
    );
    return location.found;
  } finally {
    probe.close();
  }
}

function baseMissing(release: SignedRelease, delta: DeltaRecord, target: string, location: BaseLocation, verified: boolean): string {
  const { name, version } = release.manifest;
  const corrupt = location.missing.filter((need) => need.corrupt).length;
  const shown = location.missing
    .slice(0, SHOWN)
    .map((need) => `${need.blob.digest}${need.corrupt ? ' (corrupt)' : ''} of ${need.images.map((image) => image.ref).join(', ') || 'no tagged image'}`);
  const more = location.missing.length > SHOWN ? `, and ${location.missing.length - SHOWN} more` : '';
  const what = corrupt === 0 ? 'not in' : corrupt === location.missing.length ? `corrupt in` : `missing from or corrupt in`;
  return (
    `${name} ${version} is a delta against ${delta.bases.map(describeBase).join(' and ')}, but ${location.missing.length} of the ${delta.omitted.length} layer blob(s) it leaves out are ${what} ${target}` +
    `${verified ? ' (--verify-base re-hashed them)' : ''}: ${shown.join('; ')}${more}. Nothing was changed. ` +
    `Build ${version} against a fresh receipt of this site (airlock status --site <site.yaml> --receipt <file>, then airlock build --since <file>), or ship the full bundle`
  );
}

/**
 * The bundle's layout read before its payload is hashed: index.json is checked against its line in
 * the signed SHA256SUMS, and every manifest reached from it against its digest, so the graph is
 * the signed one although no other byte has been hashed yet.
 */
function signedLayout(reader: BundleReader, release: SignedRelease): BlobSource {
  const blobs = bundleBlobSource(reader);
  return {
    ...blobs,
    async readJson(path) {
      const data = await reader.readFile(path);
      if (sha256Hex(data) !== release.checksum(path)) {
        throw new AirlockError('DIGEST_MISMATCH', `${reader.file}: ${path} does not match its line in the signed SHA256SUMS (run airlock verify)`);
      }
      return layoutJson(data, `${reader.file}: ${path}`);
    },
  };
}

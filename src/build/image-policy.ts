/**
 * The build's side of image policies: each image's policy (its own `verify`, else the manifest's)
 * with its key read from disk, judged against what was pulled into the image cache before
 * anything is written. An image that does not meet it stops the build, named with the reason.
 * What passes travels in the bundle: the policy in airlock.json, its keys under
 * supply-chain/keys/<key id>.pem and the Sigstore trusted root as supply-chain/trusted_root.json,
 * all listed in SHA256SUMS, so install and verify can judge the same way offline.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AirlockError } from '../base/errors.js';
import { SUPPLY_CHAIN_DIR } from '../bundle/format.js';
import { bytesPayload, type PayloadFile } from '../bundle/payload.js';
import { EVIDENCE_LIMIT } from '../evidence/claims.js';
import { evidenceSummary } from '../evidence/evaluate.js';
import { judgeImages } from '../evidence/judge-images.js';
import { OciLayout } from '../images/layout.js';
import type { BundleImage } from '../manifest/bundle-manifest.js';
import type { ReleaseManifest } from '../manifest/release.js';
import { parseCosignKey } from '../trust/cosign-key.js';
import type { Output } from '../ui/output.js';

export const TRUSTED_ROOT_PATH = `${SUPPLY_CHAIN_DIR}trusted_root.json`;

export interface JudgedImages {
  images: BundleImage[];
  /** Set when a keyless policy travels: airlock.json's trustedRoot. */
  trustedRoot?: string;
  files: PayloadFile[];
}

export async function judgeBuildImages(release: ReleaseManifest, images: BundleImage[], options: { manifestDir: string; cacheDir: string; output: Output }): Promise<JudgedImages> {
  const files = new Map<string, Buffer>();
  const withPolicy: BundleImage[] = [];
  for (const [index, image] of images.entries()) {
    const written = release.images[index]?.verify ?? release.verify;
    if (written === undefined) {
      withPolicy.push(image);
      continue;
    }
    let key: NonNullable<BundleImage['verify']>['key'];
    if (written.key !== undefined) {
      const file = resolve(options.manifestDir, written.key);
      const parsed = parseCosignKey((await readSource(file, written.key)).toString('utf8'), file);
      const path = `${SUPPLY_CHAIN_DIR}keys/${parsed.keyId}.pem`;
      files.set(path, Buffer.from(parsed.pem));
      key = { path, keyId: parsed.keyId };
    }
    withPolicy.push({
      ...image,
      verify: {
        ...(key ? { key } : {}),
        ...(written.identity ? { identity: written.identity } : {}),
        ...(written.issuer ? { issuer: written.issuer } : {}),
        attestations: written.attestations ?? [],
      },
    });
  }
  const keyless = withPolicy.some((image) => image.verify?.identity !== undefined);
  if (keyless && release.trustedRoot !== undefined) {
    files.set(TRUSTED_ROOT_PATH, await readSource(resolve(options.manifestDir, release.trustedRoot), release.trustedRoot));
  }
  const trustedRoot = files.has(TRUSTED_ROOT_PATH) ? TRUSTED_ROOT_PATH : undefined;
  const cache = await OciLayout.open(resolve(options.cacheDir), { create: false });
  const judged = await judgeImages({
    manifest: { images: withPolicy, ...(trustedRoot ? { trustedRoot } : {}) },
    site: undefined,
    readFile: async (path) => files.get(path)!,
    reader: {
      read: async (descriptor, what) => cache.readBlob({ digest: descriptor.digest, size: descriptor.size ?? (await stat(cache.blobPath(descriptor.digest)).catch(() => ({ size: 0 }))).size, what }, EVIDENCE_LIMIT),
    },
    bundleName: 'the release manifest',
  });
  const problems = judged.flatMap((evidence) => evidence.problems);
  const [first, ...rest] = problems;
  if (first) throw new AirlockError(first.code, first.message, rest.length > 0 ? { detail: rest.map((p) => `${p.code}: ${p.message}`).join('\n') } : undefined);
  for (const evidence of judged) for (const note of evidence.notes) options.output.debug(`${evidence.ref}: ${note}`);
  return {
    images: withPolicy.map((image, index) => {
      const summary = evidenceSummary(judged[index]!);
      const empty = summary.signers.length + summary.attestations.length + summary.sboms.length === 0;
      return empty ? image : { ...image, evidence: summary };
    }),
    ...(trustedRoot ? { trustedRoot } : {}),
    files: [...files.entries()].map(([path, data]) => bytesPayload(path, data)),
  };
}

async function readSource(file: string, named: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${named}: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

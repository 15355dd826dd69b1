/**
 * The payload stage's last step: every image's upstream evidence judged again, offline, from the
 * verified bundle (evidence/judge-images.ts), under the site's image policy where its trust store
 * has one. Each blob read is checked against SHA256SUMS on the way (VerifiedBundle.read).
 */
import type { Problem } from '../base/problem.js';
import { BLOBS_DIR } from '../bundle/format.js';
import { digestHex, verifyBytes } from '../oci/digest.js';
import type { ImageEvidence } from '../evidence/evaluate.js';
import type { TrustStore } from '../trust/store.js';
import type { VerifiedBundle } from './verified-bundle.js';

export async function checkEvidence(bundle: VerifiedBundle, trust: TrustStore): Promise<{ images: ImageEvidence[]; problems: Problem[] }> {
  if (bundle.manifest.images.length === 0) return { images: [], problems: [] };
  // Sigstore and policy code, loaded only for a bundle with images: a bundle of files verifies without evaluating it.
  const { judgeImages } = await import('../evidence/judge-images.js');
  const images = await judgeImages({
    manifest: bundle.manifest,
    site: trust.images,
    readFile: (path) => bundle.read(path),
    reader: {
      async read(descriptor, what) {
        const path = `${BLOBS_DIR}${digestHex(descriptor.digest)}`;
        const data = await bundle.read(path);
        verifyBytes(data, { digest: descriptor.digest, size: descriptor.size ?? data.length, what });
        return data;
      },
    },
    bundleName: bundle.file,
  });
  return { images, problems: images.flatMap((image) => image.problems) };
}

/** How one image's upstream evidence reads for people: the verdict, who signed, attestations, SBOMs. */
import { describeSigner } from '../manifest/image-policy.js';
import type { ImageEvidence } from '../evidence/evaluate.js';

const VERDICT = { met: 'ok  ', failed: 'BAD ', none: '--  ' } as const;

export function imageEvidenceLines(image: ImageEvidence): string[] {
  const policy = image.policy ? `policy ${image.verdict === 'met' ? 'met' : 'NOT met'}: ${image.policy.description} (${image.policy.source})` : 'no image policy';
  const lines = [`${VERDICT[image.verdict]}${image.ref}  ${policy}`];
  const indent = '      ';
  lines.push(`${indent}signed by ${image.signers.length === 0 ? 'nobody (no signature that verifies)' : image.signers.map(describeSigner).join(', ')}`);
  for (const a of image.attestations) lines.push(`${indent}attestation ${a.predicateType}: ${a.signedBy.length === 0 ? 'unsigned' : `signed by ${a.signedBy.map(describeSigner).join(', ')}`}`);
  for (const s of image.sboms) lines.push(`${indent}SBOM ${s.format}, ${s.packages} package${s.packages === 1 ? '' : 's'} (${s.digest})`);
  for (const note of image.notes) lines.push(`${indent}not counted: ${note}`);
  return lines;
}

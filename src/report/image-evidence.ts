/** One image's evidence as label/text pairs (plain text: renderers escape it), shared by the HTML and Markdown reports. */
import { describeSigner } from '../manifest/image-policy.js';
import type { ReportImage } from './model.js';

const VERDICTS = { met: 'policy met', failed: 'policy NOT met', none: 'no image policy', unchecked: 'not checked (no trust store)' } as const;

export function evidenceVerdict(image: ReportImage): { tone: 'ok' | 'bad' | 'warn'; label: string } {
  const verdict = image.judged.verdict;
  return { tone: verdict === 'met' ? 'ok' : verdict === 'failed' ? 'bad' : 'warn', label: VERDICTS[verdict] };
}

export function evidenceRows(image: ReportImage): Array<[string, string]> {
  const { judged } = image;
  const rows: Array<[string, string]> = [];
  if (judged.policy) rows.push(['Policy', judged.policy]);
  rows.push(['Signed by', judged.signers.length === 0 ? 'no signature that verifies' : judged.signers.map(describeSigner).join('; ')]);
  for (const a of judged.attestations) rows.push(['Attestation', `${a.predicateType}: ${a.signedBy.length === 0 ? 'unsigned' : `signed by ${a.signedBy.map(describeSigner).join('; ')}`}`]);
  for (const s of judged.sboms) rows.push(['SBOM', `${s.format}, ${s.packages} package${s.packages === 1 ? '' : 's'}, blob ${s.digest}`]);
  if (judged.attestations.length === 0) rows.push(['Attestations', 'none']);
  if (judged.sboms.length === 0) rows.push(['SBOM', 'none']);
  for (const note of judged.notes) rows.push(['Not counted', note]);
  return rows;
}

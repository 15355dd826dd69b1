/** The headline every renderer leads with: what was checked, and what it found. */
import type { ReportModel } from './model.js';

export type VerdictKind = 'verified' | 'rejected' | 'unchecked';

export interface Verdict {
  kind: VerdictKind;
  title: string;
  /** Plain sentences; renderers escape them like any other text. */
  lines: string[];
}

export function verdictOf(model: ReportModel): Verdict {
  const v = model.verification;
  if (!v.checked) {
    const count = model.signatureFiles.length;
    return {
      kind: 'unchecked',
      title: 'Signatures not checked',
      lines: [
        'This report was made without a trust store: nothing in it is vouched for by a signature.',
        `The bundle carries ${count} signature file${count === 1 ? '' : 's'}; none was checked.`,
        'Verify it with airlock verify --trust <dir>, or with stock tools as in docs/VERIFY.md, before relying on it.',
      ],
    };
  }
  const policy = v.policy
    ? `Policy ${v.policy.met ? 'met' : 'NOT met'}: ${v.policy.counted.length} trusted signature${v.policy.counted.length === 1 ? '' : 's'} counted, ${v.policy.threshold} required` +
      (v.policy.requiredRoles.length > 0 ? `, required roles: ${v.policy.requiredRoles.join(', ')}` : '') +
      (v.policy.reason && !v.policy.met ? ` (${v.policy.reason})` : '') +
      '.'
    : 'The signature policy was not evaluated.';
  const checked = `Checked against the trust store ${v.trustStore} at ${v.at}.`;
  if (v.ok) {
    return { kind: 'verified', title: 'Verified', lines: [checked, policy, 'Every file matches the signed SHA256SUMS, nothing unlisted, not expired.'] };
  }
  return { kind: 'rejected', title: 'Rejected', lines: [checked, policy, ...v.problems.map((problem) => `${problem.code}: ${problem.message}`)] };
}

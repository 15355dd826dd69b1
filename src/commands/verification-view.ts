/** How a verification report reads, for people and as JSON. */
import type { Output } from '../ui/output.js';
import { humanBytes, table } from '../ui/format.js';
import { describeBase, omittedBytes } from '../manifest/delta.js';
import type { VerificationReport } from '../verify/report.js';
import { imageEvidenceLines } from './evidence-view.js';

const STATUS_MARK = { valid: 'ok', invalid: 'BAD', 'unknown-key': '??', revoked: 'REVOKED' } as const;

export function printVerification(output: Output, report: VerificationReport): void {
  output.say(`bundle    ${report.bundle}`);
  if (report.manifest) {
    const m = report.manifest;
    output.say(`release   ${m.name} ${m.version}   created ${m.created}   expires ${m.expires ?? 'never'}`);
    if (m.delta) {
      output.say(`delta     against ${m.delta.bases.map(describeBase).join(' and ')}`);
      output.say(`          leaves out ${m.delta.omitted.length} layer blob(s), ${humanBytes(omittedBytes(m.delta))}, that the site must hold; checked: everything it carries`);
    }
  }
  if (report.signers.length > 0) {
    output.say('signers');
    for (const line of table(
      report.signers.map((s) => [STATUS_MARK[s.status], s.keyId, s.name ?? '(not in trust store)', s.roles.length > 0 ? `[${s.roles.join(', ')}]` : '']),
      '  ',
    )) {
      output.say(line);
    }
  }
  if (report.policy) {
    const p = report.policy;
    const roles = p.requiredRoles.length > 0 ? `, roles ${p.requiredRoles.join(', ')}` : '';
    output.say(`policy    ${p.met ? 'met' : 'NOT met'}: ${p.counted.length} trusted signature(s), need ${p.threshold}${roles}${p.reason && !p.met ? ` (${p.reason})` : ''}`);
  }
  if (report.checksums.size > 0) {
    output.say(`files     ${report.checksums.size} listed in SHA256SUMS${report.checksumsDigest ? ` (sha256 ${report.checksumsDigest})` : ''}`);
  }
  if (report.images && report.images.length > 0) {
    output.say('images');
    for (const line of report.images.flatMap(imageEvidenceLines)) output.say(`  ${line}`);
  }
  for (const problem of report.problems) output.say(`FAIL      ${problem.code}: ${problem.message}`);
  output.say(report.ok ? 'result    VERIFIED' : `result    REJECTED (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'})`);
}

export function verificationJson(report: VerificationReport): unknown {
  return {
    bundle: report.bundle,
    ok: report.ok,
    problems: report.problems,
    release: report.manifest ? { name: report.manifest.name, version: report.manifest.version, created: report.manifest.created, expires: report.manifest.expires } : null,
    signers: report.signers,
    policy: report.policy ?? null,
    delta: report.manifest?.delta ? { bases: report.manifest.delta.bases, omitted: report.manifest.delta.omitted, omittedBytes: omittedBytes(report.manifest.delta) } : null,
    checksumsDigest: report.checksumsDigest ?? null,
    files: report.checksums.size,
    images: (report.images ?? []).map(({ problems: _problems, ...image }) => image),
  };
}


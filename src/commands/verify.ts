/** `airlock verify`: the security officer's yes or no, with every reason named. */
import { loadTrustStore } from '../trust/store.js';
import { parseTimeOption } from '../ui/time-option.js';
import type { Output } from '../ui/output.js';
import { withVerified } from '../verify/load-verified.js';
import { assertVerified } from '../verify/report.js';
import { payloadProgress } from './payload-progress.js';
import { printVerification, verificationJson } from './verification-view.js';

export interface VerifyOptions {
  trust: string;
  at?: string;
  json?: boolean;
}

export async function verifyCommand(output: Output, bundle: string, options: VerifyOptions): Promise<void> {
  const trust = await loadTrustStore(options.trust);
  const now = options.at ? parseTimeOption(options.at, '--at') : new Date();
  // A bundle that cannot even be scanned becomes a report with that one problem.
  const progress = payloadProgress(output, { files: 'checking files', bytes: 'checking bundle' });
  const report = await withVerified(bundle, { checks: 'payload', trust, now, allowExpired: false, unreadable: 'report', onProgress: progress.at }, (loaded) => loaded.report).finally(() =>
    progress.stop(),
  );
  output.result(verificationJson(report));
  printVerification(output, report);
  assertVerified(report);
}

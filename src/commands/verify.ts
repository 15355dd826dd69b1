/** `airlock verify`: the security officer's yes or no, with every reason named. */
import type { BundleReader } from '../bundle/reader.js';
import { openBundle } from '../media/open-bundle.js';
import { isAirlockError } from '../base/errors.js';
import { loadTrustStore } from '../trust/store.js';
import { parseTimeOption } from '../ui/time-option.js';
import type { Output } from '../ui/output.js';
import { assertVerified, type VerificationReport } from '../verify/report.js';
import { verifyBundle } from '../verify/verifier.js';
import { printVerification, verificationJson } from './verification-view.js';

export interface VerifyOptions {
  trust: string;
  at?: string;
  json?: boolean;
}

export async function verifyCommand(output: Output, bundle: string, options: VerifyOptions): Promise<void> {
  const trust = await loadTrustStore(options.trust);
  const now = options.at ? parseTimeOption(options.at, '--at') : new Date();
  const report = await verifyFile(bundle, trust, now);
  output.result(verificationJson(report));
  printVerification(output, report);
  assertVerified(report);
}

/** A bundle that cannot even be opened or scanned becomes a report with that one problem. */
async function verifyFile(bundle: string, trust: Awaited<ReturnType<typeof loadTrustStore>>, now: Date): Promise<VerificationReport> {
  let reader: BundleReader;
  try {
    reader = await openBundle(bundle);
  } catch (error) {
    if (!isAirlockError(error) || error.code === 'INPUT_NOT_FOUND') throw error;
    return { bundle, ok: false, problems: [{ code: error.code, message: error.message }], signers: [], checksums: new Map() };
  }
  try {
    return await verifyBundle(reader, trust, { now });
  } finally {
    await reader.close();
  }
}


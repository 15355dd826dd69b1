/**
 * The receipt: one JSON file per install run, written under `<stateDir>/receipts/`, that the
 * operator carries back to the connected side as proof of what was installed where (each
 * image with the registry repository or layout it went to and the artifacts attached to it, each health gate with its query,
 * samples and verdict), and what the site's image target holds (`holdings`, what
 * `airlock build --since` reads). It names files by their sha256 only, never by content.
 */
import { join } from 'node:path';
import { writeFileDurable } from '../fs/durable.js';
import { RECEIPT_FORMAT, type Holdings } from '../manifest/holdings.js';
import type { GateResult } from '../telemetry/gate-result.js';
import { installStepId } from './install-steps.js';
import type { InstallBegin, Outcome } from './journal.js';
import { statePaths, type ReleaseRecord } from './state.js';

export interface ReceiptFacts {
  begin: InstallBegin;
  site: string;
  environment: string;
  outcome: Outcome;
  health: 'passed' | 'failed' | 'none';
  /** Steps done, by id. */
  done: ReadonlySet<string>;
  resumed: boolean;
  failure?: { step: string; code: string; message: string };
  /** The health gates that concluded: query, condition, every sample, verdict. */
  gates: readonly GateResult[];
  /** What the site's image target holds (holdings.ts); null when it could not be surveyed, and why. */
  holdings: Holdings | null;
  holdingsError?: string;
}

export function receiptFile(stateDir: string, site: string, installId: string): string {
  return join(statePaths(stateDir).receipts, `${site}-${installId}.json`);
}

function buildReceipt(facts: ReceiptFacts) {
  const { begin } = facts;
  const migrations: Record<string, Array<{ version: string; description: string; checksum: string }>> = {};
  const images: Array<{ ref: string; digest: string; target: string; attached?: Array<{ digest: string; kind: string }> }> = [];
  const hooks: Array<{ id: string; result: 'succeeded' | 'failed' }> = [];
  for (const step of begin.steps) {
    const done = facts.done.has(installStepId(step));
    const id = step.kind === 'hook' ? installStepId(step) : undefined;
    if (step.kind === 'migrate' && done) {
      (migrations[step.db] ??= []).push({ version: step.version, description: step.description, checksum: step.checksum });
    }
    if (step.kind === 'image' && done) images.push({ ref: step.ref, digest: step.digest, target: step.target, ...(step.attached ? { attached: step.attached } : {}) });
    if (id !== undefined && done) hooks.push({ id, result: 'succeeded' });
    if (id !== undefined && facts.failure?.step === id) hooks.push({ id, result: 'failed' });
  }
  return {
    format: RECEIPT_FORMAT,
    site: facts.site,
    environment: facts.environment,
    installId: begin.installId,
    release: begin.release,
    from: begin.from,
    bundle: { file: begin.bundleFile, digest: begin.bundleDigest, signers: begin.signers },
    outcome: facts.outcome,
    health: facts.health,
    startedAt: begin.at,
    finishedAt: new Date().toISOString(),
    user: begin.user,
    host: begin.host,
    overrides: begin.overrides,
    resumed: facts.resumed,
    failure: facts.failure,
    configs: facts.outcome === 'succeeded' || facts.outcome === 'unhealthy' ? begin.configs : [],
    migrationsApplied: migrations,
    imagesPushed: images,
    hooks,
    gates: facts.gates,
    holdings: facts.holdings,
    ...(facts.holdingsError === undefined ? {} : { holdingsError: facts.holdingsError }),
  };
}

export async function writeReceipt(stateDir: string, facts: ReceiptFacts): Promise<string> {
  const file = receiptFile(stateDir, facts.site, facts.begin.installId);
  await writeFileDurable(file, `${JSON.stringify(buildReceipt(facts), null, 2)}\n`, 0o644);
  return file;
}

/**
 * A receipt exported by `airlock status --receipt`, at any time (after a rollback, say): no run,
 * only what is installed and what the image target holds, in the same format as an install's.
 */
export async function exportReceipt(file: string, facts: { site: string; environment: string; installed: ReleaseRecord | undefined; holdings: Holdings }): Promise<void> {
  const { installed } = facts;
  const document = {
    format: RECEIPT_FORMAT,
    kind: 'status',
    site: facts.site,
    environment: facts.environment,
    exportedAt: facts.holdings.surveyedAt,
    installed: installed ? { installId: installed.installId, name: installed.name, version: installed.version, bundleDigest: installed.bundleDigest, installedAt: installed.installedAt } : null,
    holdings: facts.holdings,
  };
  await writeFileDurable(file, `${JSON.stringify(document, null, 2)}\n`, 0o644);
}

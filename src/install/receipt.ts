/**
 * The receipt: one JSON file per install run, written under `<stateDir>/receipts/`, that the
 * operator carries back to the connected side as proof of what was installed where (each
 * image with the registry repository or layout it went to, each health gate with its query,
 * samples and verdict). It names files by their sha256 only, never by content.
 */
import { join } from 'node:path';
import { writeFileDurable } from '../fs/durable.js';
import type { GateResult } from '../telemetry/gate-result.js';
import { installStepId } from './install-steps.js';
import type { InstallBegin, Outcome } from './journal.js';
import { statePaths } from './state.js';

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
}

export function receiptFile(stateDir: string, site: string, installId: string): string {
  return join(statePaths(stateDir).receipts, `${site}-${installId}.json`);
}

function buildReceipt(facts: ReceiptFacts) {
  const { begin } = facts;
  const migrations: Record<string, Array<{ version: string; description: string; checksum: string }>> = {};
  const images: Array<{ ref: string; digest: string; target: string }> = [];
  const hooks: Array<{ id: string; result: 'succeeded' | 'failed' }> = [];
  for (const step of begin.steps) {
    const done = facts.done.has(installStepId(step));
    const id = step.kind === 'hook' ? installStepId(step) : undefined;
    if (step.kind === 'migrate' && done) {
      (migrations[step.db] ??= []).push({ version: step.version, description: step.description, checksum: step.checksum });
    }
    if (step.kind === 'image' && done) images.push({ ref: step.ref, digest: step.digest, target: step.target });
    if (id !== undefined && done) hooks.push({ id, result: 'succeeded' });
    if (id !== undefined && facts.failure?.step === id) hooks.push({ id, result: 'failed' });
  }
  return {
    format: 'airlock-receipt/v1',
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
  };
}

export async function writeReceipt(stateDir: string, facts: ReceiptFacts): Promise<string> {
  const file = receiptFile(stateDir, facts.site, facts.begin.installId);
  await writeFileDurable(file, `${JSON.stringify(buildReceipt(facts), null, 2)}\n`, 0o644);
  return file;
}

/**
 * The site's release stack in state.json, as runs change it: an install pushes its release
 * once it is applied; undoing an install (a failed health check's reaction, or a rollback)
 * puts back the config files it touched and takes it off the stack again. Both are idempotent,
 * so a run killed in the middle of either does it again safely.
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Site } from '../manifest/site.js';
import type { Output } from '../ui/output.js';
import { itemProgress } from '../ui/progress.js';
import { raiseHighest } from './highest.js';
import type { InstallBegin } from './journal.js';
import { receiptFile } from './receipt.js';
import type { SiteRecords } from './site-records.js';
import { statePaths, type ReleaseRecord } from './state.js';
import { readBackup, restoreConfigs } from './targets/files.js';

/** Pushes this install onto the state's release stack (once, however often it is re-run). */
export async function recordRelease(records: SiteRecords, begin: InstallBegin, health: ReleaseRecord['health']): Promise<void> {
  const { site } = records;
  if (records.state.releases.at(-1)?.installId === begin.installId) return;
  // A new stack, not a deep copy: each release on it holds a record per config file (20,000 of them), and none is changed.
  const state = { ...records.state, releases: [...records.state.releases] };
  const migrations: Record<string, string[]> = {};
  for (const step of begin.steps) if (step.kind === 'migrate') (migrations[step.db] ??= []).push(step.version);
  state.releases.push({
    installId: begin.installId,
    name: begin.release.name,
    version: begin.release.version,
    bundleDigest: begin.bundleDigest,
    bundleFile: begin.bundleFile,
    signers: begin.signers,
    installedAt: new Date().toISOString(),
    installedBy: begin.user,
    host: hostname(),
    health,
    configs: Object.fromEntries(
      begin.configs.map((c) => [c.dest, { sha256: c.sha256, mode: c.mode, template: c.template, installId: begin.installId }]),
    ),
    images: begin.steps.flatMap((s) => (s.kind === 'image' ? [{ ref: s.ref, digest: s.digest, ...(s.mediaType ? { mediaType: s.mediaType } : {}) }] : [])),
    migrations,
    receipt: basename(receiptFile(site.stateDir, site.site, begin.installId)),
  });
  state.highest = raiseHighest(records.state, records.audit.entries, begin.release);
  await records.writeState(state);
}

/**
 * Undoes an install's effect on configs and state: puts back the files it touched (a no-op
 * if its backup never completed: then nothing was touched) and takes it off the release
 * stack if it got there. Returns the config paths put back.
 */
export async function undoInstall(records: SiteRecords, installId: string, output: Output): Promise<string[]> {
  const site: Site = records.site;
  const dir = statePaths(site.stateDir).install(installId);
  const backup = await readBackup(dir);
  let restored: string[] = [];
  if (backup !== undefined) {
    const progress = itemProgress(output, 'restoring configs', backup.length);
    try {
      restored = await restoreConfigs(site.configRoot, dir, backup, () => progress.add(1));
    } finally {
      progress.stop();
    }
  }
  if (records.state.releases.at(-1)?.installId === installId) {
    const state = { ...records.state, releases: [...records.state.releases] };
    // Taking a release off the stack never lowers the mark (a state file without one gets it now).
    const highest = records.highest();
    if (highest !== undefined) state.highest = highest;
    state.releases.pop();
    await records.writeState(state);
  }
  return restored;
}

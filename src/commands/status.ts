/** `airlock status`: what is installed on a site, and whether a run was interrupted. */
import { siteHoldings } from '../install/holdings.js';
import { exportReceipt, receiptFile } from '../install/receipt.js';
import { SiteRecords } from '../install/site-records.js';
import { currentRelease, releaseConfigs } from '../install/state.js';
import { siteImageTarget } from '../install/targets/images.js';
import { loadSite, type Site } from '../manifest/site.js';
import { humanBytes, shortDigest, table } from '../ui/format.js';
import type { Output } from '../ui/output.js';

export interface SiteOptions {
  site: string;
  json?: boolean;
}

export interface StatusOptions extends SiteOptions {
  /** Also write a receipt of what the site holds to this file (docs/DELTA.md). */
  receipt?: string;
}

export async function statusCommand(output: Output, options: StatusOptions): Promise<void> {
  const site = await loadSite(options.site);
  const records = await SiteRecords.read(site);
  const current = currentRelease(records.state);
  const previous = records.state.releases.at(-2);
  const configCount = current === undefined ? 0 : Object.keys(await releaseConfigs(site.stateDir, current)).length;
  const highest = records.highest();
  // After a rollback (or an --allow-downgrade install) bundles older than this are still refused.
  const aboveCurrent = highest !== undefined && highest.version !== current?.version;
  const pending = records.journal;
  const interrupted = pending !== undefined && pending.outcome === undefined ? pending.begin : undefined;
  const last = records.audit.entries.at(-1);
  // The installed release's health gates, as its install's audit line recorded them (its receipt has every sample).
  const gates = current ? ([...records.audit.entries].reverse().find((entry) => entry.action === 'install' && entry.installId === current.installId)?.gates ?? []) : [];
  const exported = options.receipt === undefined ? undefined : await exportHoldings(site, records, options.receipt, output);

  output.result({
    site: site.site,
    environment: site.environment,
    stateDir: site.stateDir,
    installed: current
      ? {
          name: current.name,
          version: current.version,
          installId: current.installId,
          installedAt: current.installedAt,
          installedBy: current.installedBy,
          host: current.host,
          bundleFile: current.bundleFile,
          bundleDigest: current.bundleDigest,
          signers: current.signers,
          health: current.health,
          gates,
          configs: configCount,
          receipt: receiptFile(site.stateDir, site.site, current.installId),
        }
      : null,
    previous: previous ? { name: previous.name, version: previous.version, installId: previous.installId } : null,
    highest: highest ?? null,
    interrupted: interrupted
      ? { kind: interrupted.kind, installId: interrupted.installId, release: interrupted.release, startedAt: interrupted.at, by: interrupted.user }
      : null,
    lastRun: last ?? null,
    ...(exported ? { receiptExported: exported } : {}),
  });

  output.say(`Site ${site.site} (${site.environment}); state in ${site.stateDir}`);
  const highestRow = aboveCurrent ? [['highest', `${highest.name} ${highest.version} was installed here: older bundles are refused (rollback protection)`]] : [];
  if (!current) {
    for (const line of table([['installed', 'nothing'], ...highestRow])) output.say(line);
  } else {
    const signers = current.signers.map((s) => `${s.name ?? '?'} ${s.keyId}${s.roles.length > 0 ? ` (${s.roles.join(', ')})` : ''}`);
    for (const line of table([
      ['installed', `${current.name} ${current.version}`],
      ['when', `${current.installedAt} by ${current.installedBy} on ${current.host}`],
      ['bundle', current.bundleFile],
      ['digest', `${current.bundleDigest} (sha256 of SHA256SUMS)`],
      ['signers', signers.join(', ') || 'none recorded'],
      ['health', current.health === 'none' ? 'no health checks' : current.health],
      ...gates.map((gate) => ['gate', `${gate.name} ${gate.verdict}: ${gate.reason}`]),
      ['configs', `${configCount} file(s) under ${site.configRoot}`],
      ['receipt', receiptFile(site.stateDir, site.site, current.installId)],
      ['previous', previous ? `${previous.name} ${previous.version} (airlock rollback returns to it)` : 'none'],
      ...highestRow,
    ])) {
      output.say(line);
    }
  }
  if (interrupted) {
    output.say(
      `  INTERRUPTED: the ${interrupted.kind} of ${interrupted.release.name} ${interrupted.release.version} started ${interrupted.at} by ${interrupted.user} did not finish; ` +
        (interrupted.kind === 'install' ? 'run the same install again to finish it, or airlock rollback to undo it' : 'run airlock rollback again to finish it'),
    );
  }
  if (exported) {
    output.say(`  exported   ${exported.file}: ${exported.blobs} blob(s), ${humanBytes(exported.bytes)}, of ${exported.images} image(s) held in ${exported.target}`);
  }
  if (last && last.outcome !== 'succeeded') {
    output.say(`  last run   ${last.action} ${last.release ? `${last.release.name} ${last.release.version} ` : ''}${last.outcome} at ${last.at}${last.code ? ` (${last.code})` : ''}`);
    for (const gate of last.installId === current?.installId ? [] : (last.gates ?? [])) output.say(`    gate     ${gate.name} ${gate.verdict}: ${gate.reason}`);
  }
}

/** Surveys the image target and writes the receipt; what it says, in figures. */
async function exportHoldings(site: Site, records: SiteRecords, file: string, output: Output) {
  const holdings = await siteHoldings(site, records.state, siteImageTarget(site), output);
  await exportReceipt(file, { site: site.site, environment: site.environment, installed: currentRelease(records.state), holdings });
  const blobs = holdings.targets.flatMap((target) => target.blobs);
  return {
    file,
    target: holdings.targets.map((target) => target.location).join(', ') || 'no image target',
    images: holdings.targets.reduce((sum, target) => sum + target.images.filter((image) => image.present).length, 0),
    blobs: blobs.length,
    bytes: blobs.reduce((sum, blob) => sum + blob.size, 0),
  };
}

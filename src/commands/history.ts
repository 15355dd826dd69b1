/** `airlock history`: the site's audit log, oldest first. */
import type { SiteOptions } from './status.js';
import { AuditLog } from '../install/audit.js';
import { loadSite } from '../manifest/site.js';
import { shortDigest, table } from '../ui/format.js';
import type { Output } from '../ui/output.js';

export async function historyCommand(output: Output, options: SiteOptions): Promise<void> {
  const site = await loadSite(options.site);
  const { entries } = AuditLog.read(site.stateDir);
  output.result({ site: site.site, environment: site.environment, entries });
  output.say(`Site ${site.site} (${site.environment}): ${entries.length} recorded run(s)`);
  if (entries.length === 0) return;
  const rows = [['when', 'action', 'release', 'outcome', 'by', 'bundle', 'notes']];
  for (const entry of entries) {
    const notes = [
      entry.from ? `from ${entry.from.version}` : '',
      entry.overrides.join(' '),
      entry.resumed ? 'resumed' : '',
      entry.code ?? '',
    ].filter((note) => note !== '');
    rows.push([
      entry.at,
      entry.action,
      entry.release ? `${entry.release.name} ${entry.release.version}` : '-',
      entry.outcome,
      entry.user,
      entry.bundleDigest ? shortDigest(entry.bundleDigest) : '-',
      notes.join('; '),
    ]);
  }
  for (const line of table(rows)) output.say(line);
  if (output.verbose) {
    for (const entry of entries.filter((e) => e.message)) output.say(`  ${entry.at} ${entry.code}: ${entry.message}`);
  }
}

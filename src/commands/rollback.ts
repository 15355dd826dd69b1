/** `airlock rollback`: see src/install/rollback.ts and docs/INSTALL.md (rollback semantics). */
import type { SiteOptions } from './status.js';
import { runRollback } from '../install/rollback.js';
import type { Output } from '../ui/output.js';

export interface RollbackOptions extends SiteOptions {
  yes?: boolean;
  undoMigrations?: boolean;
}

export async function rollbackCommand(output: Output, options: RollbackOptions): Promise<void> {
  const report = await runRollback(output, {
    siteFile: options.site,
    yes: options.yes === true,
    undoMigrations: options.undoMigrations === true,
    interactive: process.stdin.isTTY === true,
  });
  output.result(report);
  const what = `${report.undone.interrupted ? 'the interrupted install of ' : ''}${report.undone.name} ${report.undone.version}`;
  output.say('');
  output.say(
    `Rolled back ${what} on site ${report.site}: ${report.to ? `back on ${report.to.name} ${report.to.version}` : 'nothing installed now'} ` +
      `(${report.configsRestored.length} config file(s) restored).`,
  );
  if (report.migrationsUndone.length > 0) output.say(`Undone migrations: ${report.migrationsUndone.map((m) => `${m.db} V${m.version}`).join(', ')}`);
  for (const image of report.imagesRetagged) output.say(`Image tag ${image.ref} points at ${image.digest} again.`);
  if (report.migrationsKept.length > 0) {
    output.say(`Still applied (migrations roll forward only): ${report.migrationsKept.map((m) => `${m.db} V${m.version}`).join(', ')}`);
  }
}

/** `airlock install`: see src/install/install.ts for the whole sequence and docs/INSTALL.md for the operator's view. */
import { AirlockError } from '../base/errors.js';
import { runInstall } from '../install/install.js';
import type { DiffLimit } from '../install/plan-view.js';
import type { Output } from '../ui/output.js';

export interface InstallOptions {
  site: string;
  yes?: boolean;
  planOnly?: boolean;
  allowDowngrade?: boolean;
  reinstall?: boolean;
  allowExpired?: boolean;
  registry?: string;
  insecureRegistry?: boolean;
  verifyBase?: boolean;
  /** all, none or a count: how many config diffs the text plan shows. */
  diff?: string;
  json?: boolean;
}

/** `--diff all|none|<n>`, read before anything else so a typo costs nothing. */
export function parseDiffOption(text: string): DiffLimit {
  if (text === 'all') return 'all';
  if (text === 'none') return 0;
  if (/^\d{1,9}$/.test(text)) return Number(text);
  throw new AirlockError('USAGE', `--diff ${text}: expected all, none or a number of diffs such as 20`);
}

export async function installCommand(output: Output, bundle: string, options: InstallOptions): Promise<void> {
  const diffs = options.diff === undefined ? undefined : parseDiffOption(options.diff);
  const report = await runInstall(output, {
    bundle,
    siteFile: options.site,
    yes: options.yes === true,
    planOnly: options.planOnly === true,
    allowDowngrade: options.allowDowngrade === true,
    reinstall: options.reinstall === true,
    allowExpired: options.allowExpired === true,
    verifyBase: options.verifyBase === true,
    registry: options.registry === undefined ? undefined : { host: options.registry, insecure: options.insecureRegistry === true },
    ...(diffs === undefined ? {} : { planView: { diffs } }),
    interactive: process.stdin.isTTY === true,
    now: new Date(),
  });
  output.result(report);
  const release = `${report.release.name} ${report.release.version}`;
  if (report.outcome === 'planned') {
    output.say('');
    output.say('Plan only: nothing was changed.');
    return;
  }
  if (report.outcome === 'unchanged') {
    output.say(`${release} is already installed on site ${report.site} from this same bundle (install ${report.installId}): nothing to do.`);
    output.say('Pass --reinstall to apply it again (that also puts back config files changed by hand).');
    return;
  }
  output.say('');
  output.say(
    report.outcome === 'succeeded'
      ? `Installed ${release} on site ${report.site}${report.health === 'passed' ? ' (health checks passed)' : ''}.`
      : `${release} on site ${report.site}: ${report.outcome}.`,
  );
  if (report.receipt) output.say(`Receipt: ${report.receipt}`);
}

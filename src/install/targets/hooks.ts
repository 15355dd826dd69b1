/**
 * Runs one hook script shipped in the bundle (extracted, executable, under the install's
 * state directory) with a time limit. Its output goes to the install log, never to the
 * terminal, and its environment names the release, not the site's variables.
 */
import { appendFileSync } from 'node:fs';
import { execa } from 'execa';
import { AirlockError } from '../../base/errors.js';
import { onFileSync } from '../../fs/file-fault.js';

export interface HookRun {
  /** Step id, e.g. `hook:preInstall:check-environment`: names the hook in the log and in errors. */
  id: string;
  script: string;
  timeoutSeconds: number;
  cwd: string;
  log: string;
  env: Record<string, string>;
}

export interface HookEnvironment {
  name: string;
  version: string;
  environment: string;
  site: string;
  configRoot: string;
}

export function hookEnvironment(release: HookEnvironment): Record<string, string> {
  return {
    AIRLOCK_RELEASE_NAME: release.name,
    AIRLOCK_RELEASE_VERSION: release.version,
    AIRLOCK_ENVIRONMENT: release.environment,
    AIRLOCK_SITE: release.site,
    AIRLOCK_CONFIG_ROOT: release.configRoot,
  };
}

/** Runs the hook; resolves when it exits 0, otherwise throws `code` naming the hook and the log. */
export async function runHook(hook: HookRun, code: 'HOOK_FAILED' | 'HEALTH_CHECK_FAILED'): Promise<void> {
  onFileSync(hook.log, () => appendFileSync(hook.log, `==> ${new Date().toISOString()} ${hook.id} (timeout ${hook.timeoutSeconds}s)\n`, { mode: 0o600 }));
  const log = { file: hook.log, append: true } as const;
  const result = await execa(hook.script, [], {
    cwd: hook.cwd,
    env: hook.env,
    stdin: 'ignore',
    stdout: log,
    stderr: log,
    timeout: hook.timeoutSeconds * 1000,
    forceKillAfterDelay: 5000,
    reject: false,
  });
  const how = result.timedOut
    ? `timed out after ${hook.timeoutSeconds}s`
    : !result.failed
      ? 'succeeded'
      : result.exitCode !== undefined
        ? `exited with ${result.exitCode}`
        : result.signal !== undefined
          ? `was killed by ${result.signal}`
          : `could not run (${result.originalMessage})`;
  onFileSync(hook.log, () => appendFileSync(hook.log, `<== ${new Date().toISOString()} ${hook.id} ${how}\n`));
  if (result.failed) throw new AirlockError(code, `${hook.id} ${how}; its output is in ${hook.log}`);
}

/**
 * Docker's credential-helper protocol, as `docker login` sets it up on the connected side:
 * run `docker-credential-<name> get` with the server URL on stdin; it prints
 * `{"ServerURL", "Username", "Secret"}`, or fails with "credentials not found".
 * The secret is passed on to the registry only: never logged, never in an error.
 */
import { execa } from 'execa';
import { z } from 'zod';
import { AirlockError } from '../../base/errors.js';
import type { RegistryCredentials } from './registry-credentials.js';

const HELPER_TIMEOUT_MS = 30_000;
const helperName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const replySchema = z.looseObject({ Username: z.string(), Secret: z.string() });

/** Docker Hub's credentials are stored under its v1 URL; every other registry under its host. */
function serverUrl(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

export async function credentialsFromHelper(name: string, registry: string, configFile: string): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  if (!helperName.test(name)) throw new AirlockError('REGISTRY_AUTH', `${configFile}: credential helper ${JSON.stringify(name)} (for ${registry}) is not a helper name`);
  const run = await execa(program, ['get'], { input: serverUrl(registry), reject: false, timeout: HELPER_TIMEOUT_MS, stripFinalNewline: true });
  if ((run as { code?: string }).code === 'ENOENT') {
    throw new AirlockError('REGISTRY_AUTH', `${configFile}: credential helper ${program} (for ${registry}) is not on PATH`);
  }
  if (run.exitCode !== 0) {
    const said = `${run.stdout} ${run.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    const reason = run.timedOut ? `no answer in ${HELPER_TIMEOUT_MS / 1000} s` : `exit ${run.exitCode}: ${run.stderr.split('\n')[0] || run.stdout.split('\n')[0]}`;
    throw new AirlockError('REGISTRY_AUTH', `${program} get (for ${registry}) failed: ${reason}`);
  }
  let reply: z.infer<typeof replySchema>;
  try {
    reply = replySchema.parse(JSON.parse(run.stdout));
  } catch {
    throw new AirlockError('REGISTRY_AUTH', `${program} get (for ${registry}): the answer is not {"Username", "Secret"} JSON`);
  }
  if (reply.Username === '<token>') {
    throw new AirlockError('REGISTRY_AUTH', `${program} holds an identity token for ${registry}, which airlock does not use: log in with a user and password, or pass --registry-login`);
  }
  return { username: reply.Username, password: reply.Secret };
}

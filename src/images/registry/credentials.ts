/**
 * Where registry credentials come from: given explicitly (a flag or environment variable read by
 * the command), else the `auths` section of Docker's config.json ($DOCKER_CONFIG/config.json or
 * ~/.docker/config.json). Credential helpers (credsStore, credHelpers) are not run: they are
 * programs, and the isolated side has none; docs/IMAGES.md says so.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../../errors.js';
import { formatIssues } from '../../manifest/yaml-file.js';
import { normalizeRegistry } from './reference.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Credentials per registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
export type CredentialMap = Readonly<Record<string, RegistryCredentials>>;

const dockerConfigSchema = z.looseObject({
  auths: z
    .record(
      z.string(),
      z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() }),
    )
    .optional(),
});

/** `https://index.docker.io/v1/` and `registry.example.com` both name a registry host. */
function registryOfAuthKey(key: string): string {
  const withoutScheme = key.replace(/^[a-z]+:\/\//i, '');
  return normalizeRegistry(withoutScheme.split('/')[0] ?? withoutScheme);
}

export function parseDockerConfig(text: string, file: string): Map<string, RegistryCredentials> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AirlockError('REGISTRY_AUTH', `${file}: not valid JSON`);
  }
  const result = dockerConfigSchema.safeParse(data);
  if (!result.success) throw new AirlockError('REGISTRY_AUTH', formatIssues(file, result.error).join('\n'));
  const found = new Map<string, RegistryCredentials>();
  for (const [key, entry] of Object.entries(result.data.auths ?? {})) {
    let credentials: RegistryCredentials | undefined;
    if (entry.auth) credentials = parseUserPass(Buffer.from(entry.auth, 'base64').toString('utf8'));
    else if (entry.username !== undefined && entry.password !== undefined) credentials = { username: entry.username, password: entry.password };
    if (credentials) found.set(registryOfAuthKey(key), credentials);
  }
  return found;
}

function parseUserPass(value: string): RegistryCredentials | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** `user:password` as given to a flag or environment variable (the password may contain ':'). */
export function parseCredentials(value: string, what: string): RegistryCredentials {
  const credentials = parseUserPass(value);
  if (!credentials) throw new AirlockError('USAGE', `${what}: expected user:password`);
  return credentials;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** Looks credentials up by registry host: explicit ones first, then Docker's config file (read once). */
export class CredentialStore {
  private fromFile: Promise<Map<string, RegistryCredentials>> | undefined;

  constructor(
    private readonly explicit: CredentialMap = {},
    private readonly configFile: string | null = dockerConfigPath(),
  ) {}

  async get(registry: string): Promise<RegistryCredentials | undefined> {
    const host = normalizeRegistry(registry);
    const given = this.explicit[host] ?? this.explicit[registry];
    if (given) return given;
    if (this.configFile === null) return undefined;
    this.fromFile ??= this.load(this.configFile);
    return (await this.fromFile).get(host);
  }

  private async load(file: string): Promise<Map<string, RegistryCredentials>> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return new Map();
    }
    return parseDockerConfig(text, file);
  }
}

/**
 * Where registry credentials come from: given explicitly (environment variables read by the
 * command), else Docker's config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json)
 * as the docker CLI reads it: the registry's `credHelpers` entry, else `credsStore`, else `auths`.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJson } from '../../base/validate.js';
import { credentialsFromHelper } from './credential-helper.js';
import type { RegistryCredentials } from './registry-credentials.js';
import { normalizeRegistry } from '../../oci/reference.js';


/** Credentials per registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
export type CredentialMap = Readonly<Record<string, RegistryCredentials>>;

const dockerConfigSchema = z.looseObject({
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
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

export interface DockerConfig {
  file: string;
  /** Credentials stored in the file, per registry host. */
  auths: Map<string, RegistryCredentials>;
  /** Credential helper (the `<name>` of docker-credential-<name>) per registry host. */
  helpers: Map<string, string>;
  /** The helper for every registry without one of its own. */
  store?: string;
}

export function parseDockerConfig(text: string, file: string): DockerConfig {
  const config = parseJson(dockerConfigSchema, text, file, 'REGISTRY_AUTH');
  const found = new Map<string, RegistryCredentials>();
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    let credentials: RegistryCredentials | undefined;
    if (entry.auth) credentials = parseUserPass(Buffer.from(entry.auth, 'base64').toString('utf8'));
    else if (entry.username !== undefined && entry.password !== undefined) credentials = { username: entry.username, password: entry.password };
    if (credentials) found.set(registryOfAuthKey(key), credentials);
  }
  const helpers = new Map(Object.entries(config.credHelpers ?? {}).map(([key, helper]) => [registryOfAuthKey(key), helper]));
  return { file, auths: found, helpers, ...(config.credsStore ? { store: config.credsStore } : {}) };
}

function parseUserPass(value: string): RegistryCredentials | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** Looks credentials up by registry host: explicit ones first, then Docker's config file (read once). */
export class CredentialStore {
  private fromFile: Promise<DockerConfig | undefined> | undefined;
  private readonly fromHelpers = new Map<string, Promise<RegistryCredentials | undefined>>();

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
    const config = await this.fromFile;
    if (config === undefined) return undefined;
    const helper = config.helpers.get(host) ?? config.store;
    if (helper !== undefined) {
      if (!this.fromHelpers.has(host)) this.fromHelpers.set(host, credentialsFromHelper(helper, host, config.file));
      const found = await this.fromHelpers.get(host);
      if (found) return found;
    }
    return config.auths.get(host);
  }

  private async load(file: string): Promise<DockerConfig | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    return parseDockerConfig(text, file);
  }
}

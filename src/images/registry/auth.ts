/**
 * Registry authentication as Docker clients do it: try anonymously, and on a 401 follow the
 * WWW-Authenticate challenge: Basic sends the credentials with every request; Bearer trades
 * them (or nothing, for anonymous pulls) at the token service for a token per set of scopes.
 */
import { z } from 'zod';
import { AirlockError } from '../../base/errors.js';
import type { RegistryCredentials } from './registry-credentials.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** One challenge per header value; the parameters of a scheme are `key=token` or `key="quoted"`. */
export function parseChallenges(values: readonly string[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const value of values) {
    const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(value);
    if (!match) continue;
    const params: Record<string, string> = {};
    for (const param of match[2]!.matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
    }
    challenges.push({ scheme: match[1]!.toLowerCase(), params });
  }
  return challenges;
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** `repository:<name>:pull` or `repository:<name>:pull,push`, the scopes distribution's token services grant. */
export function repositoryScope(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
}

const tokenResponseSchema = z.looseObject({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
});

export function parseTokenResponse(body: Buffer, what: string): { token: string; expiresInSeconds: number } {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AirlockError('REGISTRY_AUTH', `${what}: token service answered with something other than JSON`);
  }
  const parsed = tokenResponseSchema.safeParse(data);
  const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
  if (!parsed.success || token === undefined) throw new AirlockError('REGISTRY_AUTH', `${what}: token service answered without a token`);
  // The distribution token spec: 60 seconds when the service does not say.
  return { token, expiresInSeconds: parsed.data.expires_in ?? 60 };
}

export type TokenFetch = (url: URL, headers: Record<string, string>) => Promise<{ status: number; body: Buffer }>;

interface CachedToken {
  authorization: string;
  expiresAt: number;
}

/** Refresh a little before expiry, so a token does not lapse between check and use. */
const EXPIRY_MARGIN_MS = 10_000;

export class Authenticator {
  private scheme: 'none' | 'basic' | 'bearer' = 'none';
  private bearer: { realm: URL; service?: string } | undefined;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly registry: string,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly fetchToken: TokenFetch,
    private readonly allowPlainHttp: boolean,
  ) {}

  /** The Authorization header for a request needing these scopes, fetching a token when the cached one expired. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    if (this.scheme === 'basic') return basicAuthorization(this.credentials!);
    if (this.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.authorization;
    return this.obtainToken(scopes, []);
  }

  /**
   * Called on a 401 with the header that was sent. Sets up the scheme the registry asks for;
   * a rejected password is an error. The transport re-sends once, so a refused fresh token cannot loop.
   */
  async challenged(headerValues: readonly string[], scopes: readonly string[], sent: string | undefined): Promise<void> {
    const challenges = parseChallenges(headerValues);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      // A token that was sent and refused has expired early or lacks a scope the challenge now names: fetch a fresh one.
      this.scheme = 'bearer';
      this.bearer = { realm: this.realmUrl(bearer.params.realm), ...(bearer.params.service ? { service: bearer.params.service } : {}) };
      this.tokens.delete(scopeKey(scopes));
      const extra = bearer.params.scope ? bearer.params.scope.split(' ') : [];
      await this.obtainToken(scopes, extra);
      return;
    }
    if (basic) {
      if (!this.credentials) throw new AirlockError('REGISTRY_AUTH', `registry ${this.registry} requires credentials and none were given (flag, environment or ~/.docker/config.json)`);
      if (sent !== undefined) throw new AirlockError('REGISTRY_AUTH', `registry ${this.registry} rejected the credentials for user ${this.credentials.username}`);
      this.scheme = 'basic';
      return;
    }
    throw new AirlockError('REGISTRY_AUTH', `registry ${this.registry} asked for authentication without a usable challenge (${headerValues.join('; ') || 'no WWW-Authenticate'})`);
  }

  /** Opens the message for a request refused even with what the registry asked for. */
  refusal(): string {
    if (this.scheme === 'basic') return `registry ${this.registry} rejected the credentials for user ${this.credentials!.username} on`;
    if (this.scheme === 'bearer') return `registry ${this.registry} refused the token ${this.credentials ? `issued to ${this.credentials.username}` : 'issued for anonymous access'} for`;
    return `registry ${this.registry} denied`;
  }

  private realmUrl(realm: string | undefined): URL {
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch {
      throw new AirlockError('REGISTRY_AUTH', `registry ${this.registry} sent a Bearer challenge without a valid realm`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.allowPlainHttp)) {
      throw new AirlockError('REGISTRY_AUTH', `registry ${this.registry} names token service ${url.origin}, which is not HTTPS (allowed only for registries marked insecure)`);
    }
    return url;
  }

  private async obtainToken(scopes: readonly string[], extra: readonly string[]): Promise<string> {
    const bearer = this.bearer!;
    const url = new URL(bearer.realm);
    if (bearer.service) url.searchParams.set('service', bearer.service);
    for (const scope of [...new Set([...scopes, ...extra])].sort()) url.searchParams.append('scope', scope);
    if (this.credentials) url.searchParams.set('account', this.credentials.username);
    const headers: Record<string, string> = this.credentials ? { authorization: basicAuthorization(this.credentials) } : {};
    const what = `token service ${url.origin} for registry ${this.registry}`;
    const response = await this.fetchToken(url, headers);
    if (response.status === 401 || response.status === 403) {
      throw new AirlockError('REGISTRY_AUTH', this.credentials ? `${what} rejected the credentials for user ${this.credentials.username}` : `${what} refused anonymous access (give credentials)`);
    }
    if (response.status !== 200) throw new AirlockError('REGISTRY_AUTH', `${what} answered HTTP ${response.status}`);
    const { token, expiresInSeconds } = parseTokenResponse(response.body, what);
    const authorization = `Bearer ${token}`;
    this.tokens.set(scopeKey(scopes), { authorization, expiresAt: Date.now() + Math.max(0, expiresInSeconds * 1000 - EXPIRY_MARGIN_MS) });
    return authorization;
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

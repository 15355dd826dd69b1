import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Authenticator, basicAuthorization, parseChallenges, parseTokenResponse } from '../../src/images/registry/auth.js';
import { CredentialStore, parseDockerConfig } from '../../src/images/registry/credentials.js';

describe('WWW-Authenticate challenges', () => {
  it('reads Bearer and Basic parameters, quoted or not, with escapes', () => {
    expect(
      parseChallenges([
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
        'Basic realm=plain',
        'Bearer realm="https://x/t", error="insufficient_scope", note="a \\"quoted\\" word"',
      ]),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
      { scheme: 'basic', params: { realm: 'plain' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope', note: 'a "quoted" word' } },
    ]);
  });

  it('reads token responses in both spellings and defaults expiry to 60 s', () => {
    expect(parseTokenResponse(Buffer.from('{"token":"t1","expires_in":300}'), 'x')).toEqual({ token: 't1', expiresInSeconds: 300 });
    expect(parseTokenResponse(Buffer.from('{"access_token":"t2"}'), 'x')).toEqual({ token: 't2', expiresInSeconds: 60 });
    expect(() => parseTokenResponse(Buffer.from('{}'), 'token service')).toThrow(expect.objectContaining({ code: 'REGISTRY_AUTH' }));
    expect(() => parseTokenResponse(Buffer.from('<html>'), 'token service')).toThrow(expect.objectContaining({ code: 'REGISTRY_AUTH' }));
  });
});

describe('the authenticator', () => {
  const user = { username: 'u', password: 'p:w' };

  it('asks the token service for the request scopes plus any the challenge names, with credentials, and reuses the token', async () => {
    const asked: URL[] = [];
    const auth = new Authenticator('reg.example', user, async (url, headers) => {
      asked.push(url);
      expect(headers.authorization).toBe(basicAuthorization(user));
      return { status: 200, body: Buffer.from(`{"token":"tok${asked.length}","expires_in":300}`) };
    }, false);
    expect(await auth.authorization(['repository:a:pull'])).toBeUndefined();
    await auth.challenged(['Bearer realm="https://auth.example/token",service="reg",scope="repository:b:pull"'], ['repository:a:pull,push'], undefined);
    expect(asked[0]!.searchParams.getAll('scope')).toEqual(['repository:a:pull,push', 'repository:b:pull']);
    expect(asked[0]!.searchParams.get('service')).toBe('reg');
    expect(asked[0]!.searchParams.get('account')).toBe('u');
    expect(await auth.authorization(['repository:a:pull,push'])).toBe('Bearer tok1');
    expect(asked).toHaveLength(1);
    expect(await auth.authorization(['repository:c:pull'])).toBe('Bearer tok2');
  });

  it('refuses a token service over plain HTTP unless the registry is marked insecure', async () => {
    const auth = new Authenticator('reg.example', undefined, async () => ({ status: 200, body: Buffer.from('{"token":"t"}') }), false);
    await expect(auth.challenged(['Bearer realm="http://auth.example/token"'], [], undefined)).rejects.toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining('not HTTPS') });
  });

  it('says when basic credentials are missing or were refused', async () => {
    const none = new Authenticator('reg.example', undefined, async () => ({ status: 500, body: Buffer.alloc(0) }), false);
    await expect(none.challenged(['Basic realm="r"'], [], undefined)).rejects.toMatchObject({ message: expect.stringContaining('requires credentials') });
    const some = new Authenticator('reg.example', user, async () => ({ status: 500, body: Buffer.alloc(0) }), false);
    await some.challenged(['Basic realm="r"'], [], undefined);
    expect(await some.authorization([])).toBe(basicAuthorization(user));
    await expect(some.challenged(['Basic realm="r"'], [], basicAuthorization(user))).rejects.toMatchObject({ message: expect.stringContaining('rejected the credentials for user u') });
  });

  it('names refused anonymous and authenticated token requests differently', async () => {
    const anonymous = new Authenticator('reg.example', undefined, async () => ({ status: 401, body: Buffer.alloc(0) }), false);
    await expect(anonymous.challenged(['Bearer realm="https://a/t"'], [], undefined)).rejects.toMatchObject({ message: expect.stringContaining('refused anonymous access') });
    const named = new Authenticator('reg.example', user, async () => ({ status: 403, body: Buffer.alloc(0) }), false);
    await expect(named.challenged(['Bearer realm="https://a/t"'], [], undefined)).rejects.toMatchObject({ message: expect.stringContaining('rejected the credentials for user u') });
  });
});

describe('credentials', () => {
  it('reads Docker config auths under any key form, Docker Hub aliases included', () => {
    const found = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:secret').toString('base64') },
          'http://10.0.0.5:5000': { auth: Buffer.from('me:pa:ss').toString('base64') },
          'ghcr.io': { username: 'g', password: 'h' },
          'empty.example': {},
        },
        credsStore: 'desktop',
        credHelpers: { 'https://123.dkr.ecr.example.com': 'ecr-login' },
      }),
      'config.json',
    );
    expect(found.store).toBe('desktop');
    expect(Object.fromEntries(found.helpers)).toEqual({ '123.dkr.ecr.example.com': 'ecr-login' });
    expect(Object.fromEntries(found.auths)).toEqual({
      'docker.io': { username: 'hub', password: 'secret' },
      '10.0.0.5:5000': { username: 'me', password: 'pa:ss' },
      'ghcr.io': { username: 'g', password: 'h' },
    });
    expect(() => parseDockerConfig('{', 'config.json')).toThrow(expect.objectContaining({ code: 'REGISTRY_AUTH', message: expect.stringContaining('config.json') }));
  });

  it('prefers explicit credentials and reads nothing when told not to', async () => {
    const store = new CredentialStore({ 'reg:5000': { username: 'a', password: 'b' } }, null);
    expect(await store.get('reg:5000')).toEqual({ username: 'a', password: 'b' });
    expect(await store.get('other')).toBeUndefined();
    expect(await new CredentialStore({}, '/nonexistent/config.json').get('reg')).toBeUndefined();
  });

  it('runs the credential helpers the config names, as docker does: credHelpers, then credsStore, then auths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-cred-helper-'));
    // Real executables speaking the helper protocol: the server URL on stdin, JSON on stdout.
    const helper = (name: string, body: string) => writeFile(join(dir, `docker-credential-${name}`), `#!/bin/sh\nread server\n${body}\n`, { mode: 0o755 });
    await helper('per-host', 'echo "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"h-$server\\",\\"Secret\\":\\"s3cret\\"}"');
    await helper('store', 'case "$server" in https://index.docker.io/v1/) echo \'{"Username":"hub","Secret":"x"}\';; *) echo "credentials not found in native keychain"; exit 1;; esac');
    await helper('broken', 'echo "keychain locked" >&2; exit 3');
    await helper('token', 'echo \'{"Username":"<token>","Secret":"t"}\'');
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        credsStore: 'store',
        credHelpers: { 'reg.example:5000': 'per-host', 'broken.example': 'broken', 'token.example': 'token', 'absent.example': 'absent' },
        auths: { 'fallback.example': { auth: Buffer.from('f:g').toString('base64') } },
      }),
    );
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
    try {
      const store = new CredentialStore({}, config);
      expect(await store.get('reg.example:5000')).toEqual({ username: 'h-reg.example:5000', password: 's3cret' });
      expect(await store.get('docker.io')).toEqual({ username: 'hub', password: 'x' });
      expect(await store.get('fallback.example')).toEqual({ username: 'f', password: 'g' });
      expect(await store.get('nowhere.example')).toBeUndefined();
      await expect(store.get('broken.example')).rejects.toThrow(expect.objectContaining({ code: 'REGISTRY_AUTH', message: 'docker-credential-broken get (for broken.example) failed: exit 3: keychain locked' }));
      await expect(store.get('token.example')).rejects.toThrow(/identity token for token\.example/);
      await expect(store.get('absent.example')).rejects.toThrow(expect.objectContaining({ code: 'REGISTRY_AUTH', message: `${config}: credential helper docker-credential-absent (for absent.example) is not on PATH` }));
    } finally {
      process.env.PATH = path;
    }
  });

  it('splits an auth entry at the first colon: the password may contain more', () => {
    const auth = (text: string) => Buffer.from(text).toString('base64');
    const config = parseDockerConfig(JSON.stringify({ auths: { 'a.example': { auth: auth('u:p:q') }, 'b.example': { auth: auth('nocolon') } } }), 'config.json');
    expect(config.auths.get('a.example')).toEqual({ username: 'u', password: 'p:q' });
    expect(config.auths.has('b.example')).toBe(false);
  });
});

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/base/errors.js';
import { generateKeyPair, type GeneratedKeyPair } from '../../src/trust/generate.js';
import { loadTrustStore } from '../../src/trust/store.js';

let keys: GeneratedKeyPair[];

beforeAll(async () => {
  keys = await Promise.all([0, 1, 2].map(() => generateKeyPair({ type: 'ed25519', passphrase: 'unit' })));
});

async function store(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-trust-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

async function failure(dir: string): Promise<AirlockError> {
  const error = await loadTrustStore(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AirlockError);
  return error as AirlockError;
}

describe('loadTrustStore', () => {
  it('reads trust.yaml, the key files it names and revoked.txt', async () => {
    const [build, officer, old] = keys as [GeneratedKeyPair, GeneratedKeyPair, GeneratedKeyPair];
    const dir = await store({
      'trust.yaml': [
        'version: 3',
        'threshold: 2',
        'requiredRoles: [security]',
        'keys:',
        '  - { file: build.pub.pem, name: build-ci, roles: [build] }',
        `  - { file: officer.pub.pem, name: officer, roles: [security], keyId: ${officer.keyId} }`,
        '  - { file: old.pub.pem, name: old }',
      ].join('\n'),
      'build.pub.pem': build.publicKeyPem,
      'officer.pub.pem': officer.publicKeyPem,
      'old.pub.pem': old.publicKeyPem,
      'revoked.txt': `# compromised 2024-05-01\n${old.keyId}\n\n`,
    });
    const trust = await loadTrustStore(dir);
    expect(trust.version).toBe(3);
    expect(trust.policyFile).toBe(join(dir, 'trust.yaml'));
    expect(trust.policy).toEqual({ threshold: 2, requiredRoles: ['security'] });
    expect([...trust.keys.values()].map((k) => [k.name, k.roles, k.file])).toEqual([
      ['build-ci', ['build'], 'build.pub.pem'],
      ['officer', ['security'], 'officer.pub.pem'],
      ['old', [], 'old.pub.pem'],
    ]);
    expect(trust.keys.get(build.keyId)?.publicKey.type).toBe('ed25519');
    expect([...trust.revoked]).toEqual([old.keyId]);
  });

  it('accepts the example policy in keys/', async () => {
    const [a, b, c] = keys as [GeneratedKeyPair, GeneratedKeyPair, GeneratedKeyPair];
    const example = await readFile(new URL('../../keys/trust.example.yaml', import.meta.url), 'utf8');
    const dir = await store({ 'trust.yaml': example, 'build-ci.pub.pem': a.publicKeyPem, 'build-release.pub.pem': b.publicKeyPem, 'officer.pub.pem': c.publicKeyPem });
    const trust = await loadTrustStore(dir);
    expect(trust.policy).toEqual({ threshold: 2, requiredRoles: ['security'] });
    expect(trust.keys.get(c.keyId)?.roles).toEqual(['security']);
  });

  it('without trust.yaml trusts every *.pub.pem with threshold 1', async () => {
    const [a, b] = keys as [GeneratedKeyPair, GeneratedKeyPair];
    const dir = await store({ 'alice.pub.pem': a.publicKeyPem, 'bob.pub.pem': b.publicKeyPem, 'notes.txt': 'not a key' });
    const trust = await loadTrustStore(dir);
    expect(trust.version).toBe(0);
    expect(trust.policyFile).toBeUndefined();
    expect(trust.policy).toEqual({ threshold: 1, requiredRoles: [] });
    expect([...trust.keys.values()].map((k) => k.name)).toEqual(['alice', 'bob']);
  });

  it('reports every problem at once, each naming its file and field', async () => {
    const [a, b] = keys as [GeneratedKeyPair, GeneratedKeyPair];
    const dir = await store({
      'trust.yaml': [
        'version: 1',
        'threshold: 5',
        'requiredRoles: [security]',
        'keys:',
        `  - { file: a.pub.pem, name: a, keyId: ${b.keyId} }`,
        '  - { file: copy.pub.pem, name: copy }',
        '  - { file: missing.pub.pem, name: gone }',
        '  - { file: junk.pub.pem, name: junk }',
      ].join('\n'),
      'a.pub.pem': a.publicKeyPem,
      'copy.pub.pem': a.publicKeyPem,
      'junk.pub.pem': 'hello',
      'revoked.txt': 'not-a-key-id\n',
    });
    const error = await failure(dir);
    expect(error.code).toBe('TRUST_STORE_INVALID');
    const lines = error.message.split('\n');
    const trustYaml = join(dir, 'trust.yaml');
    expect(lines).toEqual([
      `${trustYaml}: keys[0]: a.pub.pem has key id ${a.keyId}, not the pinned ${b.keyId}`,
      `${trustYaml}: keys[1]: copy.pub.pem holds the same key as a.pub.pem (${a.keyId})`,
      `${trustYaml}: keys[2]: ${join(dir, 'missing.pub.pem')}: cannot read (ENOENT)`,
      `${trustYaml}: keys[3]: ${join(dir, 'junk.pub.pem')}: no PUBLIC KEY or CERTIFICATE PEM block`,
      `${trustYaml}: threshold: 5 but only 4 key(s) listed: it can never be met`,
      `${trustYaml}: requiredRoles[0]: no key or authority has role security`,
      `${join(dir, 'revoked.txt')}: line 1: expected a key id (64 lowercase hex digits)`,
    ]);
  });

  it('validates trust.yaml with its YAML paths', async () => {
    const dir = await store({
      'trust.yaml': 'version: 0\nthreshold: 1\nkeys:\n  - { file: ../escape.pub.pem, name: x, role: [build] }\n',
    });
    const error = await failure(dir);
    expect(error.code).toBe('TRUST_STORE_INVALID');
    expect(error.message).toContain('trust.yaml: version: ');
    expect(error.message).toContain('trust.yaml: keys[0].file: must be a path inside the trust store directory');
    expect(error.message).toContain('trust.yaml: keys[0]: unknown key role');
  });

  it('refuses a directory that trusts nothing, and names a missing one', async () => {
    const empty = await store({});
    expect((await failure(empty)).code).toBe('TRUST_STORE_INVALID');
    const missing = join(empty, 'nope');
    const error = await failure(missing);
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.message).toContain(missing);
  });
});

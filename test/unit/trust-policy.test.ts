import { describe, expect, it } from 'vitest';
import { evaluatePolicy, policyError } from '../../src/trust/policy.js';
import type { TrustedKey, TrustStore } from '../../src/trust/store.js';

const id = (c: string) => c.repeat(64);
const BUILD1 = id('1');
const BUILD2 = id('2');
const SECURITY = id('3');
const REVOKED = id('4');
const STRANGER = id('9');

function key(keyId: string, name: string, roles: string[]): TrustedKey {
  // evaluatePolicy never verifies: signatures arrive already checked.
  const publicKey = { type: 'ed25519' as const, keyId, pem: '', verify: () => false };
  return { keyId, name, roles, publicKey, file: `${name}.pub.pem` };
}

const store: TrustStore = {
  dir: '/trust',
  version: 1,
  policyFile: '/trust/trust.yaml',
  keys: new Map([
    [BUILD1, key(BUILD1, 'build-ci', ['build'])],
    [BUILD2, key(BUILD2, 'build-laptop', ['build'])],
    [SECURITY, key(SECURITY, 'officer', ['security'])],
    [REVOKED, key(REVOKED, 'old-officer', ['security'])],
  ]),
  authorities: [],
  root: undefined,
  revoked: new Set([REVOKED]),
  policy: { threshold: 2, requiredRoles: ['security'] },
};

const ok = (keyId: string) => ({ keyId, valid: true });

describe('evaluatePolicy: 2 of 3 with a required security role', () => {
  it('one signature is not enough', () => {
    const result = evaluatePolicy(store, [ok(BUILD1)]);
    expect(result.met).toBe(false);
    expect(result.code).toBe('POLICY_THRESHOLD');
    expect(result.counted.map((s) => s.name)).toEqual(['build-ci']);
    expect(result.missingRoles).toEqual(['security']);
    expect(result.reason).toBe('1 of 2 required trusted signature(s) (build-ci); no signature with role security');
  });

  it('two build signatures meet the count but not the role', () => {
    const result = evaluatePolicy(store, [ok(BUILD1), ok(BUILD2)]);
    expect(result.met).toBe(false);
    expect(result.counted).toHaveLength(2);
    expect(result.missingRoles).toEqual(['security']);
    expect(result.code).toBe('POLICY_THRESHOLD');
  });

  it('build + security passes', () => {
    const result = evaluatePolicy(store, [ok(BUILD1), ok(SECURITY)]);
    expect(result).toMatchObject({ met: true, missingRoles: [], unknown: [], revoked: [], invalid: [] });
    expect(result.reason).toBeUndefined();
    expect(result.code).toBeUndefined();
    expect(policyError(result)).toBeUndefined();
  });

  it('a revoked key is reported and not counted, even with a valid signature', () => {
    const result = evaluatePolicy(store, [ok(BUILD1), ok(REVOKED)]);
    expect(result.met).toBe(false);
    expect(result.revoked).toEqual([REVOKED]);
    expect(result.counted.map((s) => s.keyId)).toEqual([BUILD1]);
    expect(result.reason).toContain(`revoked key ${REVOKED.slice(0, 16)}`);
  });

  it('a key not in the store is reported as unknown and not counted', () => {
    const result = evaluatePolicy(store, [ok(BUILD1), ok(SECURITY), ok(STRANGER)]);
    expect(result.met).toBe(true);
    expect(result.unknown).toEqual([STRANGER]);
    expect(result.counted).toHaveLength(2);
  });

  it('the same key id counts once', () => {
    const result = evaluatePolicy(store, [ok(SECURITY), ok(SECURITY)]);
    expect(result.met).toBe(false);
    expect(result.counted.map((s) => s.keyId)).toEqual([SECURITY]);
  });

  it('an invalid signature by a trusted key is not counted', () => {
    const result = evaluatePolicy(store, [ok(BUILD1), { keyId: SECURITY, valid: false }]);
    expect(result.met).toBe(false);
    expect(result.invalid).toEqual([SECURITY]);
    expect(result.code).toBe('SIGNATURE_INVALID');
  });
});

describe('evaluatePolicy: the failure code says what went wrong', () => {
  const single: TrustStore = { ...store, policy: { threshold: 1, requiredRoles: [] } };
  it.each([
    ['no signatures', [], 'SIGNATURE_MISSING'],
    ['only unknown keys', [ok(STRANGER)], 'SIGNATURE_UNTRUSTED'],
    ['only a revoked key', [ok(REVOKED)], 'KEY_REVOKED'],
    ['revoked and unknown', [ok(STRANGER), ok(REVOKED)], 'KEY_REVOKED'],
    ['a bad signature by a trusted key', [{ keyId: BUILD1, valid: false }], 'SIGNATURE_INVALID'],
  ] as const)('%s', (_, signatures, code) => {
    const result = evaluatePolicy(single, signatures);
    expect(result.met).toBe(false);
    expect(result.code).toBe(code);
    expect(policyError(result)?.code).toBe(code);
    expect(policyError(result)?.message).toMatch(/^trust policy not met: /);
  });
});

import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type SignatureCheck } from '../../src/trust/policy.js';

const id = (c: string) => c.repeat(64);
const BUILD1 = id('1');
const BUILD2 = id('2');
const SECURITY = id('3');
const REVOKED = id('4');
const STRANGER = id('9');

const policy = { threshold: 2, requiredRoles: ['security'] };
const NAMES: Record<string, [string, string[]]> = {
  [BUILD1]: ['build-ci', ['build']],
  [BUILD2]: ['build-laptop', ['build']],
  [SECURITY]: ['officer', ['security']],
};

/** evaluatePolicy never verifies: each signature arrives with its status decided. */
const ok = (keyId: string, identity?: string): SignatureCheck => {
  const [name, roles] = NAMES[keyId] ?? [undefined, []];
  return { keyId, status: 'valid', roles, ...(name === undefined ? {} : { name }), ...(identity === undefined ? {} : { identity }) };
};
const as = (status: SignatureCheck['status'], keyId: string): SignatureCheck => ({ ...ok(keyId), status });

describe('evaluatePolicy: 2 of 3 with a required security role', () => {
  it('one signature is not enough', () => {
    const result = evaluatePolicy(policy, [ok(BUILD1)]);
    expect(result.met).toBe(false);
    expect(result.code).toBe('POLICY_THRESHOLD');
    expect(result.counted.map((s) => s.name)).toEqual(['build-ci']);
    expect(result.missingRoles).toEqual(['security']);
    expect(result.reason).toBe('1 of 2 required trusted signature(s) (build-ci); no signature with role security');
  });

  it('two build signatures meet the count but not the role', () => {
    const result = evaluatePolicy(policy, [ok(BUILD1), ok(BUILD2)]);
    expect(result.met).toBe(false);
    expect(result.counted).toHaveLength(2);
    expect(result.missingRoles).toEqual(['security']);
    expect(result.code).toBe('POLICY_THRESHOLD');
  });

  it('build + security passes', () => {
    const result = evaluatePolicy(policy, [ok(BUILD1), ok(SECURITY)]);
    expect(result).toMatchObject({ met: true, missingRoles: [], unknown: [], revoked: [], invalid: [], sameKey: [] });
    expect(result.reason).toBeUndefined();
    expect(result.code).toBeUndefined();
  });

  it('a revoked key is reported in full and not counted', () => {
    const result = evaluatePolicy(policy, [ok(BUILD1), as('revoked', REVOKED)]);
    expect(result.met).toBe(false);
    expect(result.revoked).toEqual([REVOKED]);
    expect(result.counted.map((s) => s.keyId)).toEqual([BUILD1]);
    expect(result.reason).toContain(`revoked key ${REVOKED}`);
  });

  it('a key not in the store is reported as unknown and not counted', () => {
    const result = evaluatePolicy(policy, [ok(BUILD1), ok(SECURITY), as('unknown-key', STRANGER)]);
    expect(result.met).toBe(true);
    expect(result.unknown).toEqual([STRANGER]);
    expect(result.counted).toHaveLength(2);
  });

  it('the same key id counts once', () => {
    const result = evaluatePolicy(policy, [ok(SECURITY), ok(SECURITY)]);
    expect(result.met).toBe(false);
    expect(result.counted.map((s) => s.keyId)).toEqual([SECURITY]);
  });

  it('the same key under two ids counts once, with the roles of both, and says so', () => {
    const twin = id('5');
    const result = evaluatePolicy(policy, [ok(BUILD1), { keyId: twin, identity: BUILD1, status: 'valid', name: 'alice (certified)', roles: ['security'] }]);
    expect(result.met).toBe(false);
    expect(result.counted).toEqual([{ keyId: BUILD1, name: 'build-ci', roles: ['build', 'security'] }]);
    expect(result.sameKey).toEqual([{ keyId: twin, countedAs: BUILD1 }]);
    expect(result.missingRoles).toEqual([]);
    expect(result.reason).toContain(`key ${twin} is the same key as ${BUILD1} and counts once`);
  });

  it('an invalid signature by a trusted key is not counted', () => {
    const result = evaluatePolicy(policy, [ok(BUILD1), as('invalid', SECURITY)]);
    expect(result.met).toBe(false);
    expect(result.invalid).toEqual([SECURITY]);
    expect(result.code).toBe('SIGNATURE_INVALID');
  });
});

describe('evaluatePolicy: one key is one vote, however many ids it signs under', () => {
  // Property: for random sets of keys, each signing under several random ids, the count is
  // the number of distinct keys, and a threshold above it is never met.
  it('counts distinct identities over many random cases', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const keys = 1 + random(4);
      const checks: SignatureCheck[] = [];
      for (let key = 0; key < keys; key++) {
        const ids = 1 + random(3);
        for (let n = 0; n < ids; n++) checks.push({ keyId: `${key}${n}`.padEnd(64, 'a'), identity: `k${key}`, status: 'valid', roles: [] });
      }
      checks.sort(() => random(3) - 1);
      expect(evaluatePolicy({ threshold: keys, requiredRoles: [] }, checks).met).toBe(true);
      const above = evaluatePolicy({ threshold: keys + 1, requiredRoles: [] }, checks);
      expect(above.met).toBe(false);
      expect(above.counted).toHaveLength(keys);
      expect(above.sameKey).toHaveLength(checks.length - keys);
    }
  });
});

describe('evaluatePolicy: the failure code says what went wrong', () => {
  const single = { threshold: 1, requiredRoles: [] };
  it.each([
    ['no signatures', [], 'SIGNATURE_MISSING'],
    ['only unknown keys', [as('unknown-key', STRANGER)], 'SIGNATURE_UNTRUSTED'],
    ['only a revoked key', [as('revoked', REVOKED)], 'KEY_REVOKED'],
    ['revoked and unknown', [as('unknown-key', STRANGER), as('revoked', REVOKED)], 'KEY_REVOKED'],
    ['a bad signature by a trusted key', [as('invalid', BUILD1)], 'SIGNATURE_INVALID'],
  ] as const)('%s', (_, signatures, code) => {
    const result = evaluatePolicy(single, signatures);
    expect(result.met).toBe(false);
    expect(result.code).toBe(code);
    expect(result.reason).toBeTruthy();
  });
});

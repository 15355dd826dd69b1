import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AirlockError, type ErrorCode } from '../../src/base/errors.js';
import { parseCertificatesPem } from '../../src/trust/certificate.js';
import { encodeName, issueCertificate, type Issuer } from '../../src/trust/certificate-build.js';
import { createCertificateRequest, parseCertificateRequest } from '../../src/trust/certificate-request.js';
import { verifyCertifiedSigner } from '../../src/trust/chain.js';
import { ed25519PrivateKeyInfo } from '../../src/trust/ed25519.js';
import { parsePublicKeyPem, parseSigningKeyPem, withCertificate, type SigningKey } from '../../src/trust/keys.js';
import { decodePemBlocks, encodePem } from '../../src/trust/pem.js';
import { evaluatePolicy } from '../../src/trust/policy.js';
import { loadTrustStore, type TrustStore } from '../../src/trust/store.js';
import { thrown } from '../support/errors.js';

const NOW = new Date('2030-06-01T00:00:00Z');
const BEFORE = new Date('2030-01-01T00:00:00Z');
const AFTER = new Date('2031-01-01T00:00:00Z');

/** Deterministic, unencrypted Ed25519 keys: fast, and these tests are about certificates. */
async function key(seed: number): Promise<SigningKey> {
  return parseSigningKeyPem(encodePem('PRIVATE KEY', ed25519PrivateKeyInfo(Buffer.alloc(32, seed))), `key-${seed}`, '');
}

function spki(k: SigningKey): Buffer {
  return decodePemBlocks(k.publicKeyPem)[0]!.der;
}

function selfSignedCa(k: SigningKey, name: string, from = BEFORE, to = AFTER): { pem: string; issuer: Issuer } {
  const subject = encodeName({ commonName: name });
  const issuer = { name: subject, spki: spki(k), key: k };
  return { pem: issueCertificate({ subject, spki: spki(k), notBefore: from, notAfter: to, kind: 'ca' }, issuer), issuer };
}

function signerCert(subject: SigningKey, issuer: Issuer, options: { roles?: string[]; from?: Date; to?: Date; kind?: 'ca' | 'signer' } = {}): string {
  return issueCertificate(
    {
      subject: encodeName({ commonName: 'alice', roles: options.roles ?? ['security', 'admin'], organization: 'Example' }),
      spki: spki(subject),
      notBefore: options.from ?? BEFORE,
      notAfter: options.to ?? AFTER,
      kind: options.kind ?? 'signer',
    },
    issuer,
  );
}


let caKey: SigningKey;
let alice: SigningKey;
let ca: ReturnType<typeof selfSignedCa>;
let good: string;
let store: TrustStore;
let dir: string;

async function trustStore(files: Record<string, string>, authority: string): Promise<TrustStore> {
  dir = await mkdtemp(join(tmpdir(), 'airlock-ca-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  await writeFile(join(dir, 'trust.yaml'), `version: 1\nthreshold: 1\nrequiredRoles: [security]\nauthorities:\n  - ${authority}\n`);
  return loadTrustStore(dir);
}

beforeAll(async () => {
  caKey = await key(1);
  alice = await key(2);
  ca = selfSignedCa(caKey, 'Test Release CA');
  good = signerCert(alice, ca.issuer);
  store = await trustStore({ 'ca.crt.pem': ca.pem }, '{ file: ca.crt.pem, name: release CA, roles: [security, build] }');
});

describe('verifyCertifiedSigner', () => {
  it('accepts a valid chain, granting only the roles the authority may give', () => {
    const signer = verifyCertifiedSigner(store, good, 'signatures/x.pem', NOW);
    expect(signer).toMatchObject({ keyId: alice.keyId, name: 'alice', roles: ['security'], authority: 'release CA', subject: 'O=Example, OU=security, OU=admin, CN=alice' });
    expect(signer.publicKey.verify(Buffer.from('m'), alice.sign(Buffer.from('m')))).toBe(true);
    expect(parsePublicKeyPem(good, 'cert').keyId).toBe(alice.keyId);
  });

  const cases: Array<[string, () => Promise<[TrustStore, string]> | [TrustStore, string], ErrorCode, RegExp]> = [
    ['expired', () => [store, signerCert(alice, ca.issuer, { to: new Date('2030-05-01T00:00:00Z') })], 'CERTIFICATE_EXPIRED', /expired 2030-05-01T00:00:00.000Z \(checked at 2030-06-01/],
    ['not yet valid', () => [store, signerCert(alice, ca.issuer, { from: new Date('2030-07-01T00:00:00Z') })], 'CERTIFICATE_EXPIRED', /not valid before 2030-07-01/],
    ['issued by another CA', async () => [store, signerCert(alice, selfSignedCa(await key(3), 'Other CA').issuer)], 'CERTIFICATE_UNTRUSTED', /issued by "CN=Other CA": no trusted authority/],
    ['issued by an impostor CA of the same name', async () => [store, signerCert(alice, selfSignedCa(await key(4), 'Test Release CA').issuer)], 'CERTIFICATE_UNTRUSTED', /does not verify with trusted authority release CA/],
    ['revoked by serial', async () => {
      const serial = parseCertificatesPem(good, 'good')[0]!.serial.toUpperCase().replace(/(..)(?=.)/g, '$1:');
      return [await trustStore({ 'ca.crt.pem': ca.pem }, `{ file: ca.crt.pem, name: release CA, roles: [security], revokedSerials: ['${serial}'] }`), good];
    }, 'CERTIFICATE_REVOKED', /revoked by release CA \(revokedSerials\)/],
    ['a CA certificate used to sign', () => [store, signerCert(alice, ca.issuer, { kind: 'ca' })], 'CERTIFICATE_USAGE', /is a CA certificate, not a signer's/],
  ];
  it.each(cases)('%s fails with its own code', async (_, make, code, message) => {
    const [trust, pem] = await make();
    const error = thrown(() => verifyCertifiedSigner(trust, pem, 'signatures/x.pem', NOW));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/^signatures\/x\.pem: /);
    expect(error.message).toMatch(message);
  });

  it('an authority whose key is in revoked.txt vouches for nobody', async () => {
    const revokedCa = await trustStore({ 'ca.crt.pem': ca.pem, 'revoked.txt': `${caKey.keyId}\n` }, '{ file: ca.crt.pem, name: release CA, roles: [security] }');
    expect(thrown(() => verifyCertifiedSigner(revokedCa, good, 's', NOW)).code).toBe('CERTIFICATE_REVOKED');
  });

  it('an expired authority vouches for nobody', async () => {
    const old = selfSignedCa(caKey, 'Test Release CA', BEFORE, new Date('2030-02-01T00:00:00Z'));
    const trust = await trustStore({ 'ca.crt.pem': old.pem }, '{ file: ca.crt.pem, name: old CA, roles: [security] }');
    const error = thrown(() => verifyCertifiedSigner(trust, good, 's', NOW));
    expect(error.code).toBe('CERTIFICATE_EXPIRED');
    expect(error.message).toContain('trusted authority old CA');
  });

  it('follows intermediates supplied after the leaf', async () => {
    const intermediateKey = await key(5);
    const subject = encodeName({ commonName: 'Team CA' });
    // Our CA certificates say pathLen 0, so an intermediate under them is refused...
    const intermediate = issueCertificate({ subject, spki: spki(intermediateKey), notBefore: BEFORE, notAfter: AFTER, kind: 'ca' }, ca.issuer);
    const leaf = signerCert(alice, { name: subject, spki: spki(intermediateKey), key: intermediateKey });
    const error = thrown(() => verifyCertifiedSigner(store, leaf + intermediate, 's', NOW));
    expect(error.code).toBe('CERTIFICATE_USAGE');
    expect(error.message).toContain('allows 0 intermediate(s) below it, the chain has 1');
    // ...and without the intermediate the leaf does not chain at all.
    expect(thrown(() => verifyCertifiedSigner(store, leaf, 's', NOW)).code).toBe('CERTIFICATE_UNTRUSTED');
  });
});

describe('certificates and the rest of the trust code', () => {
  it('a certified signer counts in the policy with the roles its certificate earned', () => {
    const signer = verifyCertifiedSigner(store, good, 's', NOW);
    const result = evaluatePolicy(store.policy, [{ keyId: signer.keyId, identity: signer.publicKey.identity, status: 'valid', name: signer.name, roles: signer.roles }]);
    expect(result).toMatchObject({ met: true, counted: [{ keyId: alice.keyId, name: 'alice', roles: ['security'] }] });
  });

  it('withCertificate presents the chain, and refuses a certificate for another key', async () => {
    const presented = withCertificate(alice, `junk before\n${good}`, 'alice.crt.pem');
    expect(presented.publicKeyPem).toBe(good);
    expect(presented.keyId).toBe(alice.keyId);
    const error = thrown(() => withCertificate(caKey, good, 'alice.crt.pem'));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toContain(`the certificate is for key ${alice.keyId}, not for the signing key ${caKey.keyId}`);
  });

  it('a request carries subject and key, and an altered one is refused', () => {
    const pem = createCertificateRequest(encodeName({ commonName: 'bob', roles: ['build'] }), alice);
    const request = parseCertificateRequest(pem, 'bob.csr.pem');
    expect(request.keyId).toBe(alice.keyId);
    expect(request.subjectAttributes.map((a) => `${a.shortName}=${a.value}`)).toEqual(['OU=build', 'CN=bob']);
    const der = decodePemBlocks(pem)[0]!.der;
    const at = der.indexOf(Buffer.from('bob'));
    der[at] = 'r'.charCodeAt(0);
    const error = thrown(() => parseCertificateRequest(encodePem('CERTIFICATE REQUEST', der), 'rob.csr.pem'));
    expect(error.code).toBe('CERTIFICATE_INVALID');
    expect(error.message).toContain('does not verify with its own key');
  });

  it('the store refuses an authority that is not a CA', async () => {
    const error = await trustStore({ 'ca.crt.pem': good }, '{ file: ca.crt.pem, name: not a CA }').then(
      () => undefined,
      (e: unknown) => e as AirlockError,
    );
    expect(error?.code).toBe('TRUST_STORE_INVALID');
    expect(error?.message).toContain('authorities[0]: ca.crt.pem is not a CA certificate');
  });
});

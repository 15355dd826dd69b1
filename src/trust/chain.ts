/**
 * Signers vouched for by a certificate authority in the trust store. The verifier calls
 * verifyCertifiedSigner with the `signatures/<keyid>.pem` of a signer whose key the store
 * does not list: a certificate (optionally followed by intermediates) that must chain to a
 * trusted authority.
 *
 * Validity is judged at `now` (the verifier's clock or --at), not at the bundle's `created`
 * time: that time is asserted by the signer, so a stolen key with an expired certificate
 * could backdate it. A bundle whose signer's certificate has since expired needs a
 * countersignature under a current certificate.
 */
import { AirlockError } from '../base/errors.js';
import { describeName, nameAttribute, type Certificate, parseCertificatesPem } from './certificate.js';
import { parsePublicKeyDer, type PublicKey } from './keys.js';
import type { IsRevoked, KeyNames } from './revocation.js';
import { verifySignature } from './signature-algorithms.js';
import type { TrustedAuthority } from './store.js';

export interface CertifiedSigner {
  keyId: string;
  /** The subject's CN (or the whole subject when it has none). */
  name: string;
  /** Subject OUs that the authority may grant. */
  roles: string[];
  publicKey: PublicKey;
  /** Name of the trusted authority the chain ends at. */
  authority: string;
  subject: string;
  serial: string;
  notAfter: Date;
}

/** Longest chain followed: leaf, intermediates, then the trusted authority. */
const MAX_DEPTH = 6;
const CODE_SIGNING = 'codeSigning';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

function fail(code: 'CERTIFICATE_INVALID' | 'CERTIFICATE_EXPIRED' | 'CERTIFICATE_UNTRUSTED' | 'CERTIFICATE_REVOKED' | 'CERTIFICATE_USAGE', message: string): never {
  throw new AirlockError(code, message);
}

function label(certificate: Certificate): string {
  return `"${describeName(certificate.subjectAttributes)}" (serial ${certificate.serial})`;
}

function signedBy(child: Certificate, issuerSpki: Buffer): boolean {
  try {
    return verifySignature(child.signatureAlgorithm, issuerSpki, child.tbs, child.signature);
  } catch {
    return false;
  }
}

interface Path {
  certificates: Certificate[];
  anchor: TrustedAuthority;
}

/** Follows issuer names upwards through the supplied intermediates until a trusted authority signed. */
function buildPath(leaf: Certificate, supplied: Certificate[], authorities: readonly TrustedAuthority[], source: string): Path {
  const certificates = [leaf];
  let current = leaf;
  while (certificates.length < MAX_DEPTH) {
    const named = authorities.filter((authority) => authority.certificate.subject.equals(current.issuer));
    const anchor = named.find((authority) => signedBy(current, authority.certificate.spki));
    if (anchor !== undefined) return { certificates, anchor };
    const next = supplied.find((c) => !certificates.includes(c) && c.subject.equals(current.issuer) && signedBy(current, c.spki));
    if (next === undefined) {
      const issuer = describeName(current.issuerAttributes);
      const why = named.length > 0
        ? `its signature does not verify with trusted authority ${named.map((a) => a.name).join(', ')} of the same name`
        : 'no trusted authority in the trust store has that name';
      fail('CERTIFICATE_UNTRUSTED', `${source}: certificate ${label(current)} was issued by "${issuer}": ${why}`);
    }
    certificates.push(next);
    current = next;
  }
  return fail('CERTIFICATE_UNTRUSTED', `${source}: no trusted authority within ${MAX_DEPTH} certificates`);
}

function checkValidity(certificate: Certificate, now: Date, source: string, what: string): void {
  if (now < certificate.notBefore) {
    fail('CERTIFICATE_EXPIRED', `${source}: ${what} ${label(certificate)} is not valid before ${certificate.notBefore.toISOString()} (checked at ${now.toISOString()})`);
  }
  if (now > certificate.notAfter) {
    fail('CERTIFICATE_EXPIRED', `${source}: ${what} ${label(certificate)} expired ${certificate.notAfter.toISOString()} (checked at ${now.toISOString()})`);
  }
}

function checkCritical(certificate: Certificate, source: string): void {
  if (certificate.unsupportedCritical.length > 0) {
    fail('CERTIFICATE_INVALID', `${source}: certificate ${label(certificate)} has critical extension(s) airlock does not enforce: ${certificate.unsupportedCritical.join(', ')}`);
  }
}

function checkSignerUsage(leaf: Certificate, source: string): void {
  if (leaf.isCa) fail('CERTIFICATE_USAGE', `${source}: certificate ${label(leaf)} is a CA certificate, not a signer's`);
  if (leaf.keyUsage?.digitalSignature !== true) {
    fail('CERTIFICATE_USAGE', `${source}: certificate ${label(leaf)} lacks keyUsage digitalSignature`);
  }
  const extended = leaf.extKeyUsage;
  if (extended !== undefined && !extended.includes(CODE_SIGNING) && !extended.includes(ANY_EXTENDED_KEY_USAGE)) {
    fail('CERTIFICATE_USAGE', `${source}: certificate ${label(leaf)} has extendedKeyUsage ${extended.join(', ')}, not codeSigning`);
  }
}

/** An issuing certificate must be a CA, allowed to sign certificates, with room in its path length. */
function checkIssuerUsage(issuer: Certificate, below: number, source: string, what: string): void {
  if (!issuer.isCa || issuer.keyUsage?.keyCertSign === false) {
    fail('CERTIFICATE_USAGE', `${source}: ${what} ${label(issuer)} is not allowed to issue certificates (basicConstraints CA, keyUsage keyCertSign)`);
  }
  if (issuer.pathLength !== undefined && below > issuer.pathLength) {
    fail('CERTIFICATE_USAGE', `${source}: ${what} ${label(issuer)} allows ${issuer.pathLength} intermediate(s) below it, the chain has ${below}`);
  }
}

/** An issuer's key, whose signature buildPath has verified, so it parses. */
function keyNames(spki: Buffer): KeyNames {
  return parsePublicKeyDer(spki, 'issuer key');
}

export function verifyCertifiedSigner(store: { authorities: readonly TrustedAuthority[]; isRevoked: IsRevoked }, pem: string, source: string, now: Date): CertifiedSigner {
  const [leaf, ...supplied] = parseCertificatesPem(pem, source) as [Certificate, ...Certificate[]];
  let publicKey: PublicKey;
  try {
    publicKey = parsePublicKeyDer(leaf.spki, source);
  } catch (error) {
    return fail('CERTIFICATE_INVALID', error instanceof Error ? error.message : String(error));
  }
  const { certificates, anchor } = buildPath(leaf, supplied, store.authorities, source);
  const issuedByAnchor = certificates[certificates.length - 1] as Certificate;

  if (anchor.revokedSerials.has(issuedByAnchor.serial)) {
    fail('CERTIFICATE_REVOKED', `${source}: certificate ${label(issuedByAnchor)} is revoked by ${anchor.name} (revokedSerials)`);
  }
  for (const issuer of [...certificates.slice(1).map((certificate) => ({ certificate, key: keyNames(certificate.spki) })), { certificate: anchor.certificate, key: anchor }]) {
    if (store.isRevoked(issuer.key)) fail('CERTIFICATE_REVOKED', `${source}: issuing certificate ${label(issuer.certificate)} has a revoked key (${issuer.key.keyId})`);
  }

  certificates.forEach((certificate, index) => checkValidity(certificate, now, source, index === 0 ? 'certificate' : 'intermediate certificate'));
  checkValidity(anchor.certificate, now, source, `trusted authority ${anchor.name}`);
  for (const certificate of certificates) checkCritical(certificate, source);

  checkSignerUsage(leaf, source);
  certificates.slice(1).forEach((issuer, index) => checkIssuerUsage(issuer, index, source, 'intermediate certificate'));
  checkIssuerUsage(anchor.certificate, certificates.length - 1, source, `trusted authority ${anchor.name}`);

  const commonName = nameAttribute(leaf.subjectAttributes, 'CN')[0];
  return {
    keyId: publicKey.keyId,
    name: commonName ?? describeName(leaf.subjectAttributes),
    roles: nameAttribute(leaf.subjectAttributes, 'OU').filter((role) => anchor.roles.includes(role)),
    publicKey,
    authority: anchor.name,
    subject: describeName(leaf.subjectAttributes),
    serial: leaf.serial,
    notAfter: leaf.notAfter,
  };
}

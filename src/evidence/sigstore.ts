/**
 * Sigstore bundles checked offline with @sigstore/verify against a trusted root: the certificate
 * chain to Fulcio, the transparency-log entry (its signed promise or inclusion proof), signed
 * timestamps. What comes back is who signed (certificate SAN and OIDC issuer) and what: an
 * in-toto statement (DSSE) or a message digest. Matching the identity is the caller's (policy.ts).
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type TrustMaterial } from '@sigstore/verify';
import { AirlockError } from '../base/errors.js';
import { parseJsonLoosely } from './sbom-count.js';

export interface SigstoreTrust {
  material: TrustMaterial;
  /** Where the trusted root came from, for messages: a bundle path or a trust-store file. */
  source: string;
  /** verifySigstoreBundle against this root: callers reach the Sigstore libraries through it, so only a run with a trusted root loads them. */
  verify(data: Buffer, what: string): SigstoreSigner;
}

export type SigstoreContent = { kind: 'dsse'; payloadType: string; payload: Buffer } | { kind: 'message'; digest: string };

export interface SigstoreSigner {
  identity: string;
  issuer: string;
  content: SigstoreContent;
}

export function loadSigstoreTrust(data: Buffer, source: string): SigstoreTrust {
  try {
    const trust: SigstoreTrust = { material: toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(data.toString('utf8')))), source, verify: (bundle, what) => verifySigstoreBundle(bundle, trust, what) };
    return trust;
  } catch (cause) {
    throw new AirlockError('TRUST_STORE_INVALID', `${source}: not a Sigstore trusted root (${(cause as Error).message})`, { cause });
  }
}

/** Verifies a bundle; an unreadable or failing one is IMAGE_SIGNATURE_INVALID naming `what` and why. */
export function verifySigstoreBundle(data: Buffer, trust: SigstoreTrust, what: string): SigstoreSigner {
  const fail = (why: string, cause?: unknown) => new AirlockError('IMAGE_SIGNATURE_INVALID', `${what}: Sigstore bundle does not verify against ${trust.source}: ${why}`, { cause });
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(parseJsonLoosely(data));
  } catch (cause) {
    throw fail((cause as Error).message, cause);
  }
  let signer;
  try {
    signer = new Verifier(trust.material).verify(toSignedEntity(bundle));
  } catch (cause) {
    throw fail((cause as Error).message, cause);
  }
  const identity = signer.identity;
  if (identity?.subjectAlternativeName === undefined || identity.extensions?.issuer === undefined) throw fail('it is not signed with a keyless (Fulcio) certificate');
  const content: SigstoreContent =
    bundle.content.$case === 'dsseEnvelope'
      ? { kind: 'dsse', payloadType: bundle.content.dsseEnvelope.payloadType, payload: Buffer.from(bundle.content.dsseEnvelope.payload) }
      : { kind: 'message', digest: `sha256:${Buffer.from(bundle.content.messageSignature.messageDigest?.digest ?? []).toString('hex')}` };
  return { identity: identity.subjectAlternativeName, issuer: identity.extensions.issuer, content };
}

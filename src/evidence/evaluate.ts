/**
 * One image's upstream evidence judged offline: every attached artifact and every buildx
 * attestation manifest of its index is read, each signature checked (cosign keys with
 * node:crypto, Sigstore bundles against the trusted root), each signed claim held to the digest
 * it is attached to, and the image's policy decided. Used by build (against the image cache) and
 * by verify and install (against the bundle), so both judge alike.
 *
 * A signature counts for the image when it verifies, names the digest it is attached to, and that
 * digest is the image's, or the published index the image was selected from (carried beside it).
 */
import { AirlockError, isAirlockError, type ErrorCode } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import type { BundleImage, ImageEvidenceSummary } from '../manifest/bundle-manifest.js';
import { describeSigner, type ImageSigner } from '../manifest/image-policy.js';
import { buildxAttestationSubject, COSIGN_SIGN_PREDICATE } from '../oci/attached.js';
import { isIndexType } from '../oci/media-types.js';
import { parseManifest } from '../oci/schema.js';
import { verifiesWith } from '../trust/cosign-key.js';
import { readClaims, simpleSigningDigest, type Claim, type EvidenceReader } from './claims.js';
import { parseStatement, preAuthEncoding, statementDigests } from './in-toto.js';
import { meetsPolicy, requiredSigner, type ResolvedPolicy } from './policy.js';
import { SBOM_PREDICATES, sbomFacts } from './sbom-count.js';
import type { SigstoreTrust } from './sigstore.js';

export interface ImageEvidence extends ImageEvidenceSummary {
  ref: string;
  digest: string;
  policy: { source: string; description: string } | null;
  /** met: the policy holds; failed: it does not (problems say why); none: no policy applies. */
  verdict: 'met' | 'failed' | 'none';
  /** Evidence that did not count, and why (a signature by another key, over another digest). */
  notes: string[];
  problems: Problem[];
}

export interface EvidenceInputs {
  image: BundleImage;
  policy: ResolvedPolicy | undefined;
  sigstore: SigstoreTrust | undefined;
  reader: EvidenceReader;
}

interface Found {
  signatures: Array<{ signer: ImageSigner; counts: boolean }>;
  attestations: Array<{ predicateType: string; digest: string; signedBy: ImageSigner[]; counts: boolean }>;
  sboms: ImageEvidenceSummary['sboms'];
  notes: string[];
  /** Signatures that claim to be about a digest and fail: they decide the code when nothing counts. */
  invalid: string[];
  /** Keyless signers whose signatures verify but who are not the policy's. */
  strangers: ImageSigner[];
}

export async function evaluateImage(inputs: EvidenceInputs): Promise<ImageEvidence> {
  const { image, policy } = inputs;
  const covering = await coveringDigests(image, inputs.reader);
  const found: Found = { signatures: [], attestations: [], sboms: [], notes: [], invalid: [], strangers: [] };
  for (const { subject, source, claims } of await evidenceOf(image, inputs.reader)) {
    for (const claim of claims) judgeClaim(claim, { subject, source, counts: covering.has(subject), policy, sigstore: inputs.sigstore }, found);
  }
  const summary = {
    signers: unique(found.signatures.filter((s) => s.counts).map((s) => s.signer)),
    attestations: found.attestations.map(({ predicateType, digest, signedBy }) => ({ predicateType, digest, signedBy })),
    sboms: found.sboms,
  };
  const base = { ref: image.ref, digest: image.digest, ...summary, notes: [...found.notes, ...found.invalid] };
  if (policy === undefined) return { ...base, policy: null, verdict: 'none', problems: [] };
  const problems = policyProblems(image.ref, policy, found);
  return { ...base, policy: { source: policy.source, description: describe(policy) }, verdict: problems.length === 0 ? 'met' : 'failed', problems };
}

function describe(policy: ResolvedPolicy): string {
  return requiredSigner(policy) + (policy.attestations.length > 0 ? `, with signed attestations ${policy.attestations.join(', ')}` : '');
}

function policyProblems(ref: string, policy: ResolvedPolicy, found: Found): Problem[] {
  const problems: Problem[] = [];
  const counted = found.signatures.filter((s) => s.counts && meetsPolicy(policy, s.signer));
  if (counted.length === 0) {
    const others = unique([...found.signatures.filter((s) => s.counts).map((s) => s.signer), ...found.strangers]);
    const seen =
      others.length > 0
        ? `it is signed by ${others.map(describeSigner).join(', ')} only`
        : found.invalid.length > 0
          ? found.invalid.join('; ')
          : found.notes.length > 0
            ? found.notes.join('; ')
            : 'it carries no signature';
    const code: ErrorCode = found.invalid.length > 0 && others.length === 0 ? 'IMAGE_SIGNATURE_INVALID' : 'IMAGE_POLICY';
    problems.push({ code, message: `${ref}: ${requiredSigner(policy)} is required (${policy.source}), but ${seen}` });
  }
  for (const type of policy.attestations) {
    const signed = found.attestations.some((a) => a.predicateType === type && a.counts && a.signedBy.some((signer) => meetsPolicy(policy, signer)));
    if (signed) continue;
    const present = found.attestations.filter((a) => a.predicateType === type);
    const seen = present.length === 0 ? 'there is none' : `the ${present.length} present ${present.length === 1 ? 'is' : 'are'} ${present.some((a) => a.signedBy.length > 0) ? 'signed by someone else' : 'unsigned'}`;
    problems.push({ code: 'IMAGE_POLICY', message: `${ref}: an attestation of type ${type} with ${requiredSigner(policy)} is required (${policy.source}), but ${seen}` });
  }
  return problems;
}

interface ClaimContext {
  subject: string;
  source: string;
  /** The subject is the image (or the published index it was selected from): what is bound to it counts. */
  counts: boolean;
  policy: ResolvedPolicy | undefined;
  sigstore: SigstoreTrust | undefined;
}

function judgeClaim(claim: Claim, context: ClaimContext, found: Found): void {
  const what = `${context.source} layer ${claim.layer}`;
  try {
    switch (claim.kind) {
      case 'sbom':
        found.sboms.push({ ...claim.facts, digest: claim.layer });
        return;
      case 'statement':
        statementFound(parseStatement(claim.payload, what), claim.layer, [], context, found, what);
        return;
      case 'cosign-signature': {
        const key = context.policy?.key;
        if (key === undefined) return void found.notes.push(`${what}: a cosign key signature (no key to check it with)`);
        if (!verifiesWith(key, claim.payload, claim.signature)) return void found.notes.push(`${what}: a signature that key ${key.keyId} did not make (another key, or altered)`);
        bound(simpleSigningDigest(claim.payload, what), context, what);
        found.signatures.push({ signer: { keyId: key.keyId }, counts: context.counts });
        return;
      }
      case 'dsse': {
        const payload = Buffer.from(claim.envelope.payload, 'base64');
        const statement = parseStatement(payload, what);
        const key = context.policy?.key;
        const signed = key !== undefined && claim.envelope.signatures.some((s) => verifiesWith(key, preAuthEncoding(claim.envelope.payloadType, payload), Buffer.from(s.sig, 'base64')));
        if (key !== undefined && !signed) found.notes.push(`${what}: a ${statement.predicateType} attestation that key ${key.keyId} did not sign`);
        statementFound(statement, claim.layer, signed ? [{ keyId: key!.keyId }] : [], context, found, what);
        return;
      }
      case 'sigstore-bundle': {
        if (context.sigstore === undefined) return void found.notes.push(`${what}: a Sigstore bundle (no trusted root to check it against)`);
        const signer = context.sigstore.verify(claim.data, what);
        const who: ImageSigner = { identity: signer.identity, issuer: signer.issuer };
        if (context.policy && !meetsPolicy(context.policy, who)) {
          // Not the policy's signer: what it signed cannot count, whatever it is.
          found.strangers.push(who);
          return void found.notes.push(`${what}: signed by ${describeSigner(who)}`);
        }
        if (signer.content.kind === 'message') {
          bound(signer.content.digest, context, what);
          found.signatures.push({ signer: who, counts: context.counts });
          return;
        }
        statementFound(parseStatement(signer.content.payload, what), claim.layer, [who], context, found, what);
        return;
      }
    }
  } catch (error) {
    if (!isAirlockError(error, 'IMAGE_SIGNATURE_INVALID')) throw error;
    found.invalid.push(error.message);
  }
}

function statementFound(statement: ReturnType<typeof parseStatement>, layer: string, signedBy: ImageSigner[], context: ClaimContext, found: Found, what: string): void {
  if (signedBy.length > 0) {
    const digests = statementDigests(statement);
    if (!digests.includes(context.subject)) throw mismatch(what, digests.join(', ') || 'no sha256 digest', context.subject);
  }
  if (statement.predicateType === COSIGN_SIGN_PREDICATE) {
    for (const signer of signedBy) found.signatures.push({ signer, counts: context.counts });
    return;
  }
  found.attestations.push({ predicateType: statement.predicateType, digest: layer, signedBy, counts: context.counts });
  const facts = SBOM_PREDICATES.includes(statement.predicateType) ? sbomFacts(statement.predicate) : undefined;
  if (facts) found.sboms.push({ ...facts, digest: layer });
}

/** A verified signature must be about the digest it is attached to. */
function bound(digest: string, context: ClaimContext, what: string): void {
  if (digest !== context.subject) throw mismatch(what, digest, context.subject);
}

function mismatch(what: string, signed: string, subject: string): AirlockError {
  return new AirlockError('IMAGE_SIGNATURE_INVALID', `${what}: signs ${signed}, not ${subject} that it is attached to`);
}

/** The image's own digest, and the published index it was selected from when that index lists what was kept. */
async function coveringDigests(image: BundleImage, reader: EvidenceReader): Promise<Set<string>> {
  const covering = new Set([image.digest]);
  if (image.upstream === undefined) return covering;
  const what = `${image.ref}: published index ${image.upstream.digest}`;
  const upstream = parseManifest(await reader.read(image.upstream, what), image.upstream.mediaType, what);
  if (upstream.kind !== 'index') return covering;
  const listed = new Set(upstream.index.manifests.map((d) => d.digest));
  let kept = [image.digest];
  if (isIndexType(image.mediaType)) {
    const own = parseManifest(await reader.read({ digest: image.digest }, image.ref), image.mediaType, image.ref);
    if (own.kind === 'index') kept = own.index.manifests.map((d) => d.digest);
  }
  if (kept.every((digest) => listed.has(digest))) covering.add(image.upstream.digest);
  return covering;
}

/** Each attached artifact, and each buildx attestation manifest of the image's index, with the digest it is about. */
async function evidenceOf(image: BundleImage, reader: EvidenceReader): Promise<Array<{ subject: string; source: string; claims: Claim[] }>> {
  const out: Array<{ subject: string; source: string; claims: Claim[] }> = [];
  for (const attached of image.attached ?? []) {
    const source = `${image.ref}: ${attached.tag ?? 'referrer'} ${attached.digest}`;
    out.push({ subject: attached.subject, source, claims: await readClaims(await reader.read(attached, source), reader, source) });
  }
  if (isIndexType(image.mediaType)) {
    const index = parseManifest(await reader.read({ digest: image.digest }, image.ref), image.mediaType, image.ref);
    for (const entry of index.kind === 'index' ? index.index.manifests : []) {
      const subject = buildxAttestationSubject(entry);
      if (subject === undefined) continue;
      const source = `${image.ref}: attestation manifest ${entry.digest}`;
      out.push({ subject, source, claims: await readClaims(await reader.read(entry, source), reader, source) });
    }
  }
  return out;
}

function unique(signers: ImageSigner[]): ImageSigner[] {
  const seen = new Map(signers.map((signer) => [JSON.stringify(signer), signer]));
  return [...seen.values()];
}

/** The summary airlock.json keeps of what the build found. */
export function evidenceSummary(evidence: ImageEvidence): ImageEvidenceSummary {
  return { signers: evidence.signers, attestations: evidence.attestations, sboms: evidence.sboms };
}


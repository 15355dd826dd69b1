/**
 * The one way into a bundle that is to be trusted, judged or countersigned: open it (a bundle
 * file or release media), scan its headers once, and run the checks a strategy asks for. Every
 * command that verifies goes through here, so what counts as verified is decided in one place:
 *
 *   airlock verify, media verify   payload checks; an unreadable bundle is reported
 *   inspect --report --trust       payload checks; the reader stays open for the report
 *   airlock sign                   layout only (no trust store: countersigning adds a vote, it does not judge)
 *   airlock install                the signed listing first; the payload only once the release
 *                                  is known to belong on the site (verifyPayload)
 */
import { isAirlockError } from '../base/errors.js';
import type { Problem } from '../base/problem.js';
import { BundleReader } from '../bundle/reader.js';
import type { ByteSource } from '../fs/byte-source.js';
import { openBundle } from '../media/open-bundle.js';
import type { TrustStore } from '../trust/store.js';
import { checkContents, type ContentsProgress } from './check-contents.js';
import { checkEvidence } from './check-evidence.js';
import { checkImages } from './check-images.js';
import type { SignatureFiles } from './check-layout.js';
import { refusal, validSigners, type VerificationReport } from './report.js';
import { signedRelease, verifiedBundle, type SignedRelease, type VerifiedBundle } from './verified-bundle.js';
import { checkBundleLayout, checkSignedListing, emptyReport, type ListingResult } from './verifier.js';

/** A path (a bundle file, a media directory or one of its volumes), or bytes already located (media verify's volumes). */
export type BundleInput = string | { name: string; open(): Promise<ByteSource> };

export type LoadStrategy = {
  /**
   * A bundle that cannot be opened or scanned (cut short, not a tar, an unsafe entry): throw its
   * error, or return a report naming it. A path that does not exist is always thrown
   * (INPUT_NOT_FOUND): there is no bundle to report on.
   */
  unreadable: 'throw' | 'report';
} & (
  | { checks: 'layout' }
  | {
      /** listing: the signed listing only (payload on request); payload: both stages now. */
      checks: 'listing' | 'payload';
      trust: TrustStore;
      now: Date;
      /** Waive EXPIRED (install --allow-expired); the waiver is recorded as an override. */
      allowExpired: boolean;
      onProgress?: ContentsProgress;
    }
);

export interface LoadedBundle<Reader extends BundleReader | undefined = BundleReader | undefined> {
  readonly name: string;
  /** Absent when the bundle could not be scanned (unreadable: 'report'); the report then names why. */
  readonly reader: Reader;
  readonly signatureFiles: readonly SignatureFiles[];
  /** Every problem found by the checks run so far, waived ones taken out. */
  readonly report: VerificationReport;
  readonly waived: readonly Problem[];
  readonly overrides: readonly string[];
  /** The release the signed listing vouches for; throws the first problem if it did not pass. */
  release(): SignedRelease;
  /** The payload stage (run once, on first call): the verified bundle, or the first problem thrown. */
  verifyPayload(onProgress?: ContentsProgress): Promise<VerifiedBundle>;
  close(): Promise<void>;
}

/** The reader a strategy guarantees: always there when an unreadable bundle is thrown. */
type ReaderOf<S extends LoadStrategy> = S['unreadable'] extends 'throw' ? BundleReader : BundleReader | undefined;

export async function loadVerified<S extends LoadStrategy>(input: BundleInput, strategy: S): Promise<LoadedBundle<ReaderOf<S>>>;
export async function loadVerified(input: BundleInput, strategy: LoadStrategy): Promise<LoadedBundle> {
  const name = typeof input === 'string' ? input : input.name;
  let reader: BundleReader;
  try {
    reader = typeof input === 'string' ? await openBundle(input) : await BundleReader.openSource(input.name, await input.open());
  } catch (error) {
    if (strategy.unreadable === 'throw' || !isAirlockError(error) || error.code === 'INPUT_NOT_FOUND') throw error;
    return unreadable(name, { ...emptyReport(name), problems: [{ code: error.code, message: error.message }] });
  }
  try {
    return await check(reader, strategy);
  } catch (error) {
    await reader.close();
    throw error;
  }
}

/** loadVerified, then `use`, then the bundle is closed whatever happened. */
export async function withVerified<S extends LoadStrategy, T>(input: BundleInput, strategy: S, use: (loaded: LoadedBundle<ReaderOf<S>>) => Promise<T> | T): Promise<T> {
  const loaded = await loadVerified(input, strategy);
  try {
    return await use(loaded);
  } finally {
    await loaded.close();
  }
}

async function check(reader: BundleReader, strategy: LoadStrategy): Promise<LoadedBundle<BundleReader>> {
  if (strategy.checks === 'layout') {
    const { report, signatures } = checkBundleLayout(reader);
    return loaded(reader, { report, signatures, expiry: [] }, []);
  }
  const listing = await checkSignedListing(reader, strategy.trust, strategy.now);
  // An expired bundle passed the listing: its payload is still judged, so a report names every problem.
  const listingPassed = listing.report.ok;
  const result = loaded(reader, listing, strategy.allowExpired ? listing.expiry : [], strategy.trust);
  // The rejection stays with the bundle: callers read the report, or get it from verifyPayload().
  if (strategy.checks === 'payload' && listingPassed) await result.verifyPayload(strategy.onProgress).catch(() => undefined);
  return result;
}

/**
 * Expiry is judged in the listing stage but listed last: a bundle that is both damaged and
 * expired is reported damaged first (`airlock verify` exits with that code), while an installer,
 * which asks for the payload only after expiry passed, refuses it as expired without hashing it.
 */
function loaded(reader: BundleReader, listing: ListingResult, waived: readonly Problem[], trust?: TrustStore): LoadedBundle<BundleReader> {
  const { report } = listing;
  const listingProblems = [...report.problems];
  const expiry = listing.expiry.filter((problem) => !waived.includes(problem));
  const overrides = waived.length > 0 ? ['--allow-expired'] : [];
  let payloadProblems: Problem[] = [];
  const settle = (): void => {
    report.problems = [...listingProblems, ...payloadProblems, ...expiry];
    report.ok = report.problems.length === 0;
  };
  settle();
  const release = (): SignedRelease => {
    const { manifest, checksumsDigest } = report;
    if (listingProblems.length > 0 || expiry.length > 0 || manifest === undefined || checksumsDigest === undefined) throw refusal(report);
    return signedRelease({ file: reader.file, manifest, digest: checksumsDigest, signers: validSigners(report), waived, overrides }, report.checksums);
  };
  let payload: Promise<VerifiedBundle> | undefined;
  return {
    name: reader.file,
    reader,
    signatureFiles: listing.signatures,
    report,
    waived,
    overrides,
    release,
    verifyPayload(onProgress) {
      payload ??= (async () => {
        if (listingProblems.length > 0) throw refusal(report);
        payloadProblems = await checkContents(reader, report.checksums, onProgress);
        // The graph is read from bytes just hashed: only once they all matched.
        if (payloadProblems.length === 0) payloadProblems = await checkImages(reader, report.manifest!, report.checksums);
        settle();
        if (payloadProblems.length > 0) throw refusal(report);
        const bundle = verifiedBundle(release(), reader);
        // Upstream image signatures are judged once every byte they are read from is known good.
        if (trust) {
          try {
            const evidence = await checkEvidence(bundle, trust);
            report.images = evidence.images;
            payloadProblems = evidence.problems;
          } catch (error) {
            // Evidence that cannot even be read (a malformed artifact, a key that is not one) rejects the bundle like any problem.
            if (!isAirlockError(error)) throw error;
            payloadProblems = [{ code: error.code, message: error.message }];
          }
          settle();
          if (payloadProblems.length > 0) throw refusal(report);
        }
        return bundle;
      })();
      return payload;
    },
    close: () => reader.close(),
  };
}

function unreadable(name: string, report: VerificationReport): LoadedBundle<undefined> {
  const refuse = (): never => {
    throw refusal(report);
  };
  return {
    name,
    reader: undefined,
    signatureFiles: [],
    report,
    waived: [],
    overrides: [],
    release: refuse,
    verifyPayload: async () => refuse(),
    close: async () => undefined,
  };
}

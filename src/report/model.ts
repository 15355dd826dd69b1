/**
 * The security officer's report as plain data: one model, rendered as HTML, Markdown or
 * JSON. Everything in it except `generated`, `tool` and `verification` comes from the
 * bundle, which is untrusted input: renderers must escape every string.
 */
import type { DeltaView } from '../images/delta-view.js';
import type { BundleImage, ImageEvidenceSummary } from '../manifest/bundle-manifest.js';
import type { PolicyReport, SignerReport } from '../verify/report.js';
import type { Problem } from '../base/problem.js';

export const REPORT_FORMAT = 'airlock-report/v1';

/** What a file shown in full turned out to hold. */
export type FileContent =
  | { kind: 'text'; text: string; /** characters that render invisibly or reorder text, shown as ⟨U+XXXX⟩ */ hiddenCharacters: number }
  | { kind: 'binary' }
  | { kind: 'too-large'; limit: number }
  | { kind: 'missing' };

export interface ReportFile {
  path: string;
  /** Bytes in the tar, or null when the bundle lacks the file. */
  size: number | null;
  /** Digest SHA256SUMS lists, or null when it lists none. */
  sha256: string | null;
  /** Whether the bytes shown hash to the listed digest; null when not read or not listed. */
  matchesChecksum: boolean | null;
  content: FileContent;
}

export interface ReportConfig extends ReportFile {
  environment: string;
  dest: string;
  mode: string;
  template: boolean;
}

export interface ReportMigration extends ReportFile {
  database: string;
  version: string;
  description: string;
  undo: ReportFile | null;
}

/** A health gate on the site's Prometheus: a query, not a file; shown so the officer reads what will judge the release. */
export interface ReportGate {
  name: string;
  query: string;
  /** The whole rule in words: `<query> below 0.05 for 2m, every 10s (timeout 3m)`. */
  rule: string;
}

export interface ReportHook extends ReportFile {
  phase: 'preInstall' | 'postInstall' | 'healthCheck';
  name: string;
  timeoutSeconds: number;
}

/** One line of the full listing: what SHA256SUMS says and what the tar holds, side by side. */
export interface ReportListing {
  path: string;
  sha256: string | null;
  size: number | null;
}

export type ReportVerification =
  | { checked: false }
  | {
      checked: true;
      ok: boolean;
      trustStore: string;
      at: string;
      signers: SignerReport[];
      policy: PolicyReport | null;
      problems: Problem[];
    };

/**
 * An image's upstream evidence as the report shows it: judged by the verification when it ran
 * (verdict met, failed or none), else what the build recorded in airlock.json (unchecked).
 */
export interface ReportImage extends BundleImage {
  judged: ImageEvidenceSummary & {
    verdict: 'met' | 'failed' | 'none' | 'unchecked';
    /** The policy and where it came from, when one applied. */
    policy: string | null;
    notes: string[];
  };
}

export interface ReportModel {
  format: typeof REPORT_FORMAT;
  generated: string;
  tool: { name: 'airlock'; version: string };
  bundle: { file: string; size: number };
  release: {
    name: string;
    version: string;
    created: string;
    expires: string | null;
    /** Judged at `generated`. */
    expired: boolean;
    onHealthCheckFailure: 'rollback' | 'stop';
    builtBy: string;
  };
  targets: { sites: string[]; environments: string[] };
  /** Key ids that have a signature file in the bundle, whether or not anything checked them. */
  signatureFiles: string[];
  verification: ReportVerification;
  /** SHA-256 of SHA256SUMS: the identity of this release's content. */
  checksumsDigest: string;
  images: ReportImage[];
  /** The release's SBOM, CycloneDX 1.6 JSON (src/report/sbom.ts). */
  sbom: string;
  /** A delta bundle: its bases, its size against the full bundle's, and the layer blobs it leaves out per image; null for a full bundle. */
  delta: DeltaView | null;
  configs: ReportConfig[];
  migrations: ReportMigration[];
  hooks: ReportHook[];
  gates: ReportGate[];
  listing: ReportListing[];
}

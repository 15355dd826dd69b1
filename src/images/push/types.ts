/** The push API's shapes, shared by the registry and OCI layout targets. */
import { AirlockError } from '../../base/errors.js';
import type { Output } from '../../ui/output.js';
import type { RegistryCredentials } from '../registry/registry-credentials.js';
import type { RepositoryMapping } from './repository-map.js';

export type ImageTarget =
  | {
      kind: 'registry';
      /** host[:port] of the isolated registry. */
      registry: string;
      /** Plain HTTP (only on explicit request). */
      insecure?: boolean;
      /** Else Docker's config.json `auths` entry for the registry, else anonymous. */
      credentials?: RegistryCredentials;
      repositoryMap?: RepositoryMapping;
      /** Blobs up to this size are uploaded in one request, larger ones in chunks of this size. Default 128 MiB. */
      chunkSize?: number;
    }
  | { kind: 'oci-layout'; dir: string };

export interface BlobEvent {
  ref: string;
  digest: string;
  size: number;
  /** skipped: the target had it; mounted: linked from another repository; uploaded/copied: bytes sent. */
  outcome: 'skipped' | 'mounted' | 'uploaded' | 'copied';
}

export interface PushOptions {
  output: Output;
  /**
   * A delta bundle's omitted blobs: digest -> the repository of the target found holding it
   * (`''` in an OCI layout). They are never uploaded: found on the target, or mounted from there.
   */
  held?: ReadonlyMap<string, string>;
  /** Called as each blob is settled (after it is safely on the target). */
  onProgress?: (event: BlobEvent) => void;
}

export interface PushedImage {
  ref: string;
  /** Where it went: `<registry>/<repository>[:tag]`, or `<dir>:<ref>` for an OCI layout. */
  target: string;
  digest: string;
  blobs: { transferred: number; mounted: number; skipped: number };
  bytesTransferred: number;
}

/** A delta's omitted blob that the target held when the install was checked, and no longer does. */
export function heldBlobGone(ref: string, digest: string, target: string): AirlockError {
  return new AirlockError(
    'DELTA_BASE_MISSING',
    `${ref}: blob ${digest} was left out of this delta bundle because the site held it, but ${target} no longer does (removed since the install began?): install the full bundle of this release`,
  );
}

/** What every handler of `airlock serve` works with, built once at start (server.ts). */
import type { BlobChecks } from './blob-checks.js';
import type { Catalog, Repository } from './catalog.js';
import type { ServedContent } from './content.js';
import { nameUnknown } from './errors.js';

export interface ServeContext {
  catalog: Catalog;
  content: ServedContent;
  checks: BlobChecks;
  /** Called when bytes do not match their digest, or cannot be read (the connection is cut). */
  onFault(error: Error, name: string, digest: string): void;
}

/** The repository a request names; NAME_UNKNOWN when none is served under that name. */
export function repositoryOf(catalog: Catalog, name: string): Repository {
  const repository = catalog.repositories.get(name);
  if (!repository) throw nameUnknown(name);
  return repository;
}

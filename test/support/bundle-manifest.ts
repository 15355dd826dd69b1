/** A minimal valid airlock.json (shop 1.1.0, nothing in it) for pure tests, with the fields a test cares about patched in. */
import type { BundleManifest } from '../../src/manifest/bundle-manifest.js';

export function bundleManifest(patch: Partial<BundleManifest> = {}): BundleManifest {
  return {
    format: 'airlock/v1',
    name: 'shop',
    version: '1.1.0',
    created: '2026-01-01T00:00:00Z',
    expires: null,
    targets: { sites: [], environments: [] },
    configs: {},
    migrations: {},
    hooks: { preInstall: [], postInstall: [], healthCheck: [] },
    images: [],
    onHealthCheckFailure: 'rollback',
    builtBy: { tool: 'airlock', version: '0.1.0' },
    ...patch,
  };
}

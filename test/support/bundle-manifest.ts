/** A minimal valid airlock.json (shop 1.1.0, nothing in it) for pure tests, with the fields a test cares about patched in. */
import type { BundleManifest } from '../../src/manifest/bundle-manifest.js';
import type { HealthGate } from '../../src/manifest/health-gate.js';

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

/** A valid health gate (`up` below 1, 10 s every 2 s, timeout 30 s), fields patched in. */
export function healthGate(patch: Partial<HealthGate> = {}): HealthGate {
  return { kind: 'prometheus', name: 'g', query: 'up', below: 1, forSeconds: 10, intervalSeconds: 2, timeoutSeconds: 30, ...patch };
}

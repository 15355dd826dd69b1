/** Records the installer keeps, as pure tests build them: a release of the state's stack, an install's begin record. */
import type { InstallStep } from '../../src/install/install-steps.js';
import type { InstallBegin } from '../../src/install/journal.js';
import type { ReleaseRecord } from '../../src/install/state.js';

export function releaseRecord(version: string, patch: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    installId: `run-${version}`,
    name: 'shop',
    version,
    bundleDigest: 'd',
    bundleFile: 'f',
    signers: [],
    installedAt: '2026-01-01T00:00:00Z',
    installedBy: 'root',
    host: 'h',
    health: 'passed',
    configs: {},
    images: [],
    migrations: {},
    receipt: 'r',
    ...patch,
  };
}

/** The begin record of install run-1 of shop 1.0.0 with these steps. */
export function installBeginRecord(steps: InstallStep[]): Omit<InstallBegin, 'at'> {
  return {
    event: 'begin',
    kind: 'install',
    installId: 'run-1',
    release: { name: 'shop', version: '1.0.0' },
    bundleDigest: 'd'.repeat(64),
    bundleFile: 'shop-1.0.0.airlock',
    signers: [],
    from: null,
    user: 'root',
    host: 'h',
    pid: 1,
    overrides: [],
    onHealthCheckFailure: 'rollback',
    configs: [],
    steps,
  };
}

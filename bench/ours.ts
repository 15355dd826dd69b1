/** Our contenders: the bundled CLI as a user runs it. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './measure.js';

export const PASSPHRASE = 'bench passphrase, not a secret';
/** Fixed bundle time (2026-01-01T00:00:00Z): every build of a release is the same bytes. */
export const SOURCE_DATE_EPOCH = '1767225600';

export interface SigningKey {
  privateKey: string;
  /** A trust directory holding only the public key. */
  trustDir: string;
}

export function generateKey(cli: string, dir: string): SigningKey {
  const keysDir = join(dir, 'keys');
  const trustDir = join(dir, 'trust');
  // A fresh key each run: a --keep work directory still holds the last run's.
  rmSync(dir, { recursive: true, force: true });
  execFileSync(process.execPath, [cli, 'keys', 'generate', '--name', 'bench', '--out', keysDir], {
    env: { ...process.env, AIRLOCK_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  mkdirSync(trustDir, { recursive: true });
  copyFileSync(join(keysDir, 'bench.pub.pem'), join(trustDir, 'bench.pub.pem'));
  return { privateKey: join(keysDir, 'bench.key.pem'), trustDir };
}

export function airlockBuild(cli: string, manifest: string, key: SigningKey, outDir: string): Command {
  return {
    argv: [process.execPath, cli, 'build', manifest, '--key', key.privateKey, '--out', outDir],
    env: { AIRLOCK_PASSPHRASE: PASSPHRASE, SOURCE_DATE_EPOCH },
  };
}

export function airlockVerify(cli: string, bundle: string, key: SigningKey): Command {
  return { argv: [process.execPath, cli, 'verify', bundle, '--trust', key.trustDir] };
}

export function airlockMediaWrite(cli: string, bundle: string, mediaDir: string, volumeSize: number, key: SigningKey): Command {
  return {
    argv: [process.execPath, cli, 'media', 'write', bundle, '--to', mediaDir, '--volume-size', String(volumeSize), '--key', key.privateKey],
    env: { AIRLOCK_PASSPHRASE: PASSPHRASE },
  };
}

/** `airlock install` of a bundle (or media directory) on a site, unattended; `cli` may be the installer on the media. */
export function airlockInstall(cli: string, source: string, site: string): Command {
  return { argv: [process.execPath, cli, 'install', source, '--site', site, '--yes'] };
}

/** The site file of the install benchmarks: state and config root beside it; images into `registry` (plain HTTP) when given. */
export function siteYaml(trustDir: string, registry?: string): string {
  const images = registry === undefined ? [] : [`  images: { registry: "${registry}", insecure: true }`];
  return ['site: bench', 'environment: prod', 'stateDir: state', `trust: ${JSON.stringify(trustDir)}`, 'targets:', '  configRoot: etc', ...images, ''].join('\n');
}

/** `airlock build`: the build engineer's one command, scriptable in CI. */
import { buildRelease } from '../build/build-release.js';
import { AirlockError } from '../base/errors.js';
import type { CredentialMap } from '../images/registry/credentials.js';
import { humanBytes } from '../ui/format.js';
import { describeBase, fullBundleBytes, omittedBytes } from '../manifest/delta.js';
import type { Output } from '../ui/output.js';
import { payloadProgress } from './payload-progress.js';
import { openSigningKeys, passphraseAtHand } from './signing-key.js';

export interface BuildOptions {
  key: string[];
  cert?: string[];
  out: string;
  passphraseFile?: string;
  cache: string;
  platform?: string[];
  registryLogin?: string[];
  since?: string[];
  json?: boolean;
}

export async function buildCommand(output: Output, manifestFile: string, options: BuildOptions): Promise<void> {
  const progress = payloadProgress(output, { files: 'packing bundle', bytes: 'writing bundle' });
  const result = await buildRelease({
    manifestFile,
    outDir: options.out,
    cacheDir: options.cache,
    platforms: options.platform,
    credentials: registryLogins(options.registryLogin ?? [], process.env),
    since: options.since ?? [],
    env: process.env,
    output,
    loadKeys: () => openSigningKeys(output, options.key, options.cert, options.passphraseFile),
    unlockEarly: passphraseAtHand(options.passphraseFile, process.env),
    onProgress: progress.at,
  }).finally(() => progress.stop());
  const delta = result.manifest.delta;

  output.result({
    bundle: result.file,
    size: result.size,
    name: result.manifest.name,
    version: result.manifest.version,
    created: result.manifest.created,
    expires: result.manifest.expires,
    checksumsDigest: result.checksumsDigest,
    signers: result.signers,
    images: result.manifest.images,
    delta: delta ? { bases: delta.bases, omitted: delta.omitted.length, omittedBytes: omittedBytes(delta) } : null,
  });
  output.say(`built ${result.file} (${humanBytes(result.size)})`);
  output.say(`  ${result.manifest.name} ${result.manifest.version}, created ${result.manifest.created}, expires ${result.manifest.expires ?? 'never'}`);
  output.say(`  content sha256 ${result.checksumsDigest} (of SHA256SUMS)`);
  for (const keyId of result.signers) output.say(`  signed by ${keyId}`);
  if (delta) {
    output.say(`  delta against ${delta.bases.map(describeBase).join(' and ')}`);
    output.say(`  left out ${delta.omitted.length} layer blob(s) the base holds, ${humanBytes(omittedBytes(delta))}: the full bundle would be about ${humanBytes(fullBundleBytes(result.size, delta))}`);
  }
}

/** Credentials come from the environment, never from an argument that `ps` would show. */
function registryLogins(hosts: readonly string[], env: NodeJS.ProcessEnv): CredentialMap {
  if (hosts.length === 0) return {};
  const username = env.AIRLOCK_REGISTRY_USER;
  const password = env.AIRLOCK_REGISTRY_PASSWORD;
  if (!username || password === undefined) {
    throw new AirlockError('USAGE', `--registry-login ${hosts.join(', ')}: set AIRLOCK_REGISTRY_USER and AIRLOCK_REGISTRY_PASSWORD`);
  }
  return Object.fromEntries(hosts.map((host) => [host, { username, password }]));
}

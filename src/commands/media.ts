/** `airlock media write|verify`: release media for the trip across the air gap, and the check on arrival. */
import { openSpannedSource } from '../fs/byte-source.js';
import { AirlockError } from '../base/errors.js';
import { parseByteSize, parseVolumeSize } from '../media/sizes.js';
import { checkMedia } from '../media/verify-media.js';
import { writeMedia } from '../media/write-media.js';
import { loadTrustStore } from '../trust/store.js';
import { humanBytes } from '../ui/format.js';
import { runningByteProgress } from '../ui/progress.js';
import type { Output } from '../ui/output.js';
import { openSigningKeys } from './signing-key.js';
import { parseTimeOption } from '../ui/time-option.js';
import { printVerification, verificationJson } from './verification-view.js';
import { assertVerified, type VerificationReport } from '../verify/report.js';
import { withVerified } from '../verify/load-verified.js';

export interface MediaWriteOptions {
  to: string[];
  volumeSize?: string;
  mediaSize?: string;
  key?: string[];
  cert?: string[];
  passphraseFile?: string;
  unsigned?: boolean;
  installer?: string;
  json?: boolean;
}

export interface MediaVerifyOptions {
  trust: string;
  at?: string;
  json?: boolean;
}

function volumeRange(numbers: readonly number[]): string {
  if (numbers.length === 0) return 'no volumes';
  return numbers.length === 1 ? `volume ${numbers[0]}` : `volumes ${numbers[0]}-${numbers[numbers.length - 1]}`;
}

export async function mediaWriteCommand(output: Output, bundle: string, options: MediaWriteOptions): Promise<void> {
  const keyFiles = options.key ?? [];
  if (keyFiles.length === 0 && options.unsigned !== true) {
    throw new AirlockError('USAGE', 'media write needs --key (signs each medium\'s SHA256SUMS.media so the installer can be checked with openssl before use; give as many as the trust policy needs), or --unsigned');
  }
  if (keyFiles.length > 0 && options.unsigned === true) throw new AirlockError('USAGE', '--unsigned and --key exclude each other');
  const sizing = parseVolumeSize(options.volumeSize);
  const mediaSize = options.mediaSize === undefined ? undefined : parseByteSize(options.mediaSize, '--media-size');
  const keys = await openSigningKeys(output, keyFiles, options.cert, options.passphraseFile);
  const progress = runningByteProgress(output, 'cutting volumes');
  const result = await writeMedia({
    bundle,
    dirs: options.to,
    sizing,
    ...(mediaSize === undefined ? {} : { mediaSize }),
    keys,
    ...(options.installer === undefined ? {} : { installer: options.installer }),
    warn: (line) => output.warn(line),
    onProgress: (done, total) => progress.at(done, total),
  }).finally(() => progress.stop());
  const { index } = result;
  const rate = result.copySeconds > 0 ? index.bundle.size / result.copySeconds : 0;
  output.result({
    bundle: index.bundle,
    volumeSize: index.volumeSize,
    volumes: index.volumes,
    media: result.media,
    installer: index.installer,
    signedBy: index.signedBy,
    seconds: result.copySeconds,
  });
  output.say(`${index.bundle.file} (${humanBytes(index.bundle.size)}): ${index.volumes.length} volume${index.volumes.length === 1 ? '' : 's'} of at most ${humanBytes(index.volumeSize)} on ${index.media} medi${index.media === 1 ? 'um' : 'a'}`);
  for (const medium of result.media) {
    const extras = medium.installer ? ', installer' : '';
    output.say(`  medium ${medium.medium}: ${medium.dir}   ${volumeRange(medium.volumes)} of ${index.volumes.length}${extras}, ${'INSTALL.txt'}, MEDIA.json, SHA256SUMS.media`);
  }
  output.say(`release digest    ${index.bundle.checksumsSha256}  (sha256 of its SHA256SUMS)`);
  if (index.installer) output.say(`installer sha256  ${index.installer.sha256}  airlock-installer.mjs`);
  for (const keyId of index.signedBy) output.say(`signed by         ${keyId} (signatures/${keyId}.sig on each medium)`);
  if (index.signedBy.length === 0) output.say('NOT signed (--unsigned): send the installer sha256 above to the site through another channel');
  output.say(`cut and hashed in ${result.copySeconds.toFixed(2)} s (${humanBytes(rate)}/s)`);
}

export async function mediaVerifyCommand(output: Output, dirs: string[], options: MediaVerifyOptions): Promise<void> {
  const trust = await loadTrustStore(options.trust);
  const now = options.at ? parseTimeOption(options.at, '--at') : new Date();
  const progress = runningByteProgress(output, 'checking volumes');
  const check = await checkMedia(dirs, trust, now, (done, total) => progress.at(done, total)).finally(() => progress.stop());
  const { index } = check;
  output.say(`media     ${index.bundle.name} ${index.bundle.version}: ${index.volumes.length} volume(s) on ${index.media} medi${index.media === 1 ? 'um' : 'a'}, ${humanBytes(index.bundle.size)}`);
  for (const medium of check.media) {
    const by = medium.signers.map((signer) => `${signer.name ?? signer.keyId} (${signer.status})`).join(', ');
    const signature = medium.signers.length === 0 ? 'NOT signed' : `signed by ${by}, trust policy ${medium.policyMet ? 'met' : 'NOT met'}`;
    output.say(`  ${medium.dir}: SHA256SUMS.media ${signature}, ${medium.filesChecked} file(s) listed`);
  }
  for (const volume of check.volumes) output.say(`  volume ${volume.index} of ${index.volumes.length}: ${volume.status}${volume.path ? `  (${volume.path})` : ''}`);
  for (const problem of check.problems) output.say(`FAIL      ${problem.code}: ${problem.message}`);

  let report: VerificationReport | undefined;
  if (check.parts) {
    const parts = check.parts;
    const bundle = { name: dirs[0]!, open: () => openSpannedSource(dirs[0]!, parts) };
    const verified = await withVerified(bundle, { checks: 'payload', trust, now, allowExpired: false, unreadable: 'report' }, (loaded) => ({
      scanned: loaded.reader !== undefined,
      report: loaded.report,
    }));
    // A bundle the volumes hold but that cannot be scanned is a problem of the media.
    if (!verified.scanned) check.problems.push(...verified.report.problems);
    else {
      report = verified.report;
      printVerification(output, report);
    }
  }
  output.result({ media: { bundle: index.bundle, volumes: check.volumes, media: check.media, problems: check.problems }, bundle: report ? verificationJson(report) : null });
  const [first] = check.problems;
  if (first) throw new AirlockError(first.code, first.message);
  if (report) assertVerified(report);
}

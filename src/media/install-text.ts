/** INSTALL.txt: what the operator reads first, in plain words, with commands that work as written. */
import { signaturePaths } from '../bundle/format.js';
import type { KeyType } from '../trust/algorithms.js';
import { humanBytes } from '../ui/format.js';
import { INSTALLER_FILE, MEDIA_SUMS, type MediaIndex } from './media-index.js';

export interface InstallTextInput {
  index: MediaIndex;
  medium: number;
  signers: ReadonlyArray<{ keyId: string; type: KeyType }>;
}

function signatureCheck({ keyId, type }: { keyId: string; type: KeyType }): string {
  const signature = signaturePaths(keyId).signature;
  return type === 'ed25519'
    ? `openssl pkeyutl -verify -pubin -inkey TRUSTED-KEY.pub.pem -rawin -in ${MEDIA_SUMS} -sigfile ${signature}`
    : `openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify TRUSTED-KEY.pub.pem -signature ${signature} ${MEDIA_SUMS}`;
}

function volumeList(index: MediaIndex, medium: number): string {
  const numbers = index.volumes.filter((volume) => volume.medium === medium).map((volume) => volume.index);
  if (numbers.length === 0) return 'no volumes';
  const range = numbers.length === 1 ? `volume ${numbers[0]}` : `volumes ${numbers[0]} to ${numbers[numbers.length - 1]}`;
  return `${range} of ${index.volumes.length}`;
}

export function installText({ index, medium, signers }: InstallTextInput): string {
  const { bundle } = index;
  const installerHere = medium === 1 && index.installer !== null;
  const driver = index.installer?.sqliteDriver;
  const lines = [
    `${bundle.name} ${bundle.version}: release media, medium ${medium} of ${index.media}`,
    '',
    `This medium holds ${volumeList(index, medium)} of ${bundle.file} (${humanBytes(bundle.size)} in all)${installerHere ? ', and the installer' : ''}.`,
    index.media > 1 ? `The installer is on medium 1. Every medium has this file and its own ${MEDIA_SUMS}.` : '',
    '',
    'You need: Node.js 20 or newer, and your site file (site.yaml) with its trust directory.',
    driver
      ? `SQLite sites: the SQLite driver in node_modules/ is built for ${driver.platform}-${driver.arch}, Node ABI ${driver.nodeAbi} (Node ${driver.nodeVersion.split('.')[0]}.x).`
      : 'No SQLite driver is on these media: sites with a SQLite database need better-sqlite3 installed next to the installer.',
    '',
    '1. Check every medium before running anything from it. In the medium\'s directory:',
    '',
    ...(signers.length > 0
      ? [
          ...signers.flatMap((signer) => [`     # key id ${signer.keyId}`, `     ${signatureCheck(signer)}`]),
          `     sha256sum -c ${MEDIA_SUMS}`,
          '',
          `   TRUSTED-KEY.pub.pem is, for each signature, the key of that id from YOUR trust directory`,
          `   (not from these media); check as many as your trust policy requires. To see a key file's id:`,
          '     openssl pkey -pubin -in TRUSTED-KEY.pub.pem -outform DER | sha256sum',
          '   Each openssl command must print "Signature Verified Successfully" (Ed25519) or "Verified OK" (RSA),',
          '   sha256sum "OK" on every line.',
        ]
      : [
          `     sha256sum -c ${MEDIA_SUMS}`,
          '',
          '   These media are NOT signed: the check above finds damaged files, not forged ones.',
          `   Compare the installer's sha256 with the one the release team sent you separately:`,
          `     ${index.installer?.sha256 ?? '(no installer on these media)'}  ${INSTALLER_FILE}`,
        ]),
    '   Stop here if any line fails, and report which file it names.',
    '',
    '2. Install with one command (it verifies the whole release again first, shows the plan and asks):',
    '',
    `     node /path/to/medium1/${INSTALLER_FILE} install /path/to/medium1 --site /etc/airlock/site.yaml`,
    '',
    index.media > 1
      ? '   Mount all media side by side (e.g. /media/usb1, /media/usb2, ...) or copy every medium\'s files\n   into one directory: the installer finds the volumes in the directories next to the one you name.'
      : '   The installer reads the volumes where they are: nothing is copied or unpacked first.',
    '',
    '3. Afterwards:',
    `     node ${INSTALLER_FILE} status --site /etc/airlock/site.yaml`,
    `     node ${INSTALLER_FILE} rollback --site /etc/airlock/site.yaml   (returns to the previous release)`,
    '',
    `To check the volumes and the release without installing: node ${INSTALLER_FILE} media verify <each medium> --trust <trust dir>`,
    '',
  ];
  return lines.filter((line, position) => line !== '' || lines[position - 1] !== '').join('\n');
}

/**
 * The certificate and key for `--tls-cert` / `--tls-key`, checked before the server starts, so a
 * certificate the runtimes would refuse fails here with its reason rather than on every node:
 * it must be valid now, allow TLS server use (extended key usage serverAuth, when it has one),
 * name the server in a subjectAltName (Go clients, hence containerd, CRI-O, Docker and skopeo,
 * ignore the CN), and belong to the key. An encrypted key (PKCS#8 PEM, e.g. from
 * `airlock keys generate`) is opened with the passphrase from --passphrase-file or AIRLOCK_PASSPHRASE.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { readPassphrase } from '../ui/passphrase.js';

export interface TlsFiles {
  cert: string;
  key: string;
  passphraseFile?: string;
}

export interface TlsIdentity {
  /** PEM: the server certificate, then any intermediates. */
  cert: Buffer;
  key: KeyObject;
  /** DNS names and IP addresses the certificate is for, in its order. */
  names: string[];
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot read the TLS ${what} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

export async function loadTlsIdentity(files: TlsFiles, now: Date): Promise<TlsIdentity> {
  const cert = await readInput(files.cert, 'certificate');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (cause) {
    throw new AirlockError('CERTIFICATE_INVALID', `${files.cert}: not a PEM certificate`, { cause });
  }
  const pem = await readInput(files.key, 'key');
  const encrypted = pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  const passphrase = encrypted ? await readPassphrase({ ...(files.passphraseFile === undefined ? {} : { file: files.passphraseFile }), prompt: `Passphrase for ${files.key}` }) : undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, ...(passphrase === undefined ? {} : { passphrase }) });
  } catch (cause) {
    throw new AirlockError(encrypted ? 'PASSPHRASE_WRONG' : 'KEY_INVALID', encrypted ? `${files.key}: the passphrase does not open the key` : `${files.key}: not a PEM private key`, { cause });
  }
  checkServerCertificate(leaf, files.cert, now);
  if (!leaf.checkPrivateKey(key)) throw new AirlockError('KEY_INVALID', `${files.key}: is not the key of certificate ${files.cert}`);
  return { cert, key, names: namesOf(leaf) };
}

function namesOf(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .flatMap((entry) => {
      const match = /^(DNS|IP Address):(.+)$/.exec(entry);
      return match ? [match[2]!] : [];
    });
}

function checkServerCertificate(certificate: X509Certificate, file: string, now: Date): void {
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
    throw new AirlockError('CERTIFICATE_EXPIRED', `${file}: valid from ${certificate.validFrom} to ${certificate.validTo}, not now`);
  }
  const usages = certificate.keyUsage;
  if (usages !== undefined && !usages.includes(SERVER_AUTH) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
    throw new AirlockError(
      'CERTIFICATE_USAGE',
      `${file}: its extended key usage (${usages.join(', ')}) does not allow a TLS server (serverAuth, 1.3.6.1.5.5.7.3.1); a signer certificate from \`airlock keys issue\` cannot serve TLS (docs/SERVE.md shows how to make one)`,
    );
  }
  if (namesOf(certificate).length === 0) {
    throw new AirlockError('CERTIFICATE_USAGE', `${file}: names no DNS name or IP address (subjectAltName); containerd, CRI-O, Docker and skopeo refuse such a server certificate (docs/SERVE.md)`);
  }
}

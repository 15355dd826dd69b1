/**
 * `airlock keys ca-cert | cert-request | issue`: a small offline CA for teams without PKI.
 * The CA key signs a self-signed CA certificate once; each signer sends a request (their
 * name, the roles they ask for, their key, signed by that key); the CA issues a certificate.
 */
import { readFile } from 'node:fs/promises';
import { AirlockError } from '../base/errors.js';
import { describeName, nameAttribute, parseCertificatesPem, type Certificate } from '../trust/certificate.js';
import { encodeName, issueCertificate } from '../trust/certificate-build.js';
import { createCertificateRequest, parseCertificateRequest } from '../trust/certificate-request.js';
import { keyIdOf } from '../trust/key-id.js';
import { writeExclusive } from '../trust/key-files.js';
import { readKeyFile } from '../trust/keys.js';
import { decodePemBlocks } from '../trust/pem.js';
import { roleName } from '../trust/store-schema.js';
import { table } from '../ui/format.js';
import type { Output } from '../ui/output.js';
import { openSigningKey } from './signing-key.js';

export interface KeysCaCertOptions {
  key: string;
  name: string;
  org?: string;
  days?: string;
  out: string;
  passphraseFile?: string;
  json?: boolean;
}

export interface KeysCertRequestOptions {
  key: string;
  name: string;
  role?: string[];
  org?: string;
  out: string;
  passphraseFile?: string;
  json?: boolean;
}

export interface KeysIssueOptions {
  caKey: string;
  caCert: string;
  days?: string;
  out: string;
  passphraseFile?: string;
  json?: boolean;
}

const DAY_MS = 86_400_000;

function days(value: string | undefined, fallback: number): number {
  const text = value ?? String(fallback);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 36_500) throw new AirlockError('USAGE', `--days ${text}: expected 1 to 36500`);
  return Number(text);
}

function roles(values: string[] | undefined): string[] {
  for (const role of values ?? []) {
    if (!roleName.safeParse(role).success) throw new AirlockError('USAGE', `--role ${role}: expected a lower-case role name such as build or security`);
  }
  return values ?? [];
}

/** Whole seconds: certificate times carry no fractions. */
function now(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

function spkiOf(pem: string): Buffer {
  return decodePemBlocks(pem)[0]?.der ?? Buffer.alloc(0);
}

export async function keysCaCertCommand(output: Output, options: KeysCaCertOptions): Promise<void> {
  const key = await openSigningKey(output, options.key, options.passphraseFile);
  const subject = encodeName({ commonName: options.name, ...(options.org === undefined ? {} : { organization: options.org }) });
  const spki = spkiOf(key.publicKeyPem);
  const notBefore = now();
  const notAfter = new Date(notBefore.getTime() + days(options.days, 3650) * DAY_MS);
  const pem = issueCertificate({ subject, spki, notBefore, notAfter, kind: 'ca' }, { name: subject, spki, key });
  await writeExclusive(options.out, pem, 0o644);
  output.result({ certificate: options.out, keyId: key.keyId, notAfter: notAfter.toISOString() });
  output.say(`Wrote CA certificate ${options.out}`);
  output.say(table([['CA key id', key.keyId], ['valid until', notAfter.toISOString()], ['next', 'list it under authorities: in each trust.yaml (keys/README.md)']]).join('\n'));
}

export async function keysCertRequestCommand(output: Output, options: KeysCertRequestOptions): Promise<void> {
  const key = await openSigningKey(output, options.key, options.passphraseFile);
  const subject = encodeName({ commonName: options.name, roles: roles(options.role), ...(options.org === undefined ? {} : { organization: options.org }) });
  await writeExclusive(options.out, createCertificateRequest(subject, key), 0o644);
  output.result({ request: options.out, keyId: key.keyId, roles: options.role ?? [] });
  output.say(`Wrote certificate request ${options.out} for key ${key.keyId}; take it to the CA (airlock keys issue)`);
}

export async function keysIssueCommand(output: Output, requestFile: string, options: KeysIssueOptions): Promise<void> {
  const request = parseCertificateRequest(await readKeyFile(requestFile), requestFile);
  const [ca] = parseCertificatesPem(await readFile(options.caCert, 'utf8'), options.caCert) as [Certificate];
  if (!ca.isCa) throw new AirlockError('CERTIFICATE_USAGE', `${options.caCert}: not a CA certificate (basicConstraints CA:TRUE)`);
  const key = await openSigningKey(output, options.caKey, options.passphraseFile);
  if (keyIdOf(ca.spki) !== key.keyId) throw new AirlockError('KEY_INVALID', `${options.caKey}: is not the key of CA certificate ${options.caCert}`);
  const notBefore = now();
  let notAfter = new Date(notBefore.getTime() + days(options.days, 365) * DAY_MS);
  if (notAfter > ca.notAfter) {
    notAfter = ca.notAfter;
    output.warn(`warning: validity shortened to the CA certificate's end, ${ca.notAfter.toISOString()}`);
  }
  const pem = issueCertificate({ subject: request.subject, spki: request.spki, notBefore, notAfter, kind: 'signer' }, { name: ca.subject, spki: ca.spki, key });
  await writeExclusive(options.out, pem, 0o644);
  const [issued] = parseCertificatesPem(pem, options.out) as [Certificate];
  const requestedRoles = nameAttribute(request.subjectAttributes, 'OU');
  output.result({ certificate: options.out, subject: describeName(request.subjectAttributes), roles: requestedRoles, keyId: request.keyId, serial: issued.serial, notAfter: notAfter.toISOString() });
  output.say(`Issued ${options.out}`);
  output.say(table([
    ['subject', describeName(request.subjectAttributes)],
    ['roles asked', requestedRoles.join(', ') || '-'],
    ['key id', request.keyId],
    ['serial', issued.serial],
    ['valid until', notAfter.toISOString()],
  ]).join('\n'));
}

/** Key id = lowercase hex SHA-256 of the SPKI DER (what `openssl pkey -pubin -outform DER | sha256sum` prints). */
import { createHash } from 'node:crypto';

export const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;

export function keyIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

export function isKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value);
}

/** The short form people read in listings; the full id stays in files and --json. */
export function shortKeyId(keyId: string): string {
  return keyId.slice(0, 16);
}

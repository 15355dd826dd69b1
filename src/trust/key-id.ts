/** Key id = lowercase hex SHA-256 of the SPKI DER (what `openssl pkey -pubin -outform DER | sha256sum` prints). */
import { createHash } from 'node:crypto';
import { KEY_ID_PATTERN } from '../bundle/format.js';

export function keyIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

export function isKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value);
}

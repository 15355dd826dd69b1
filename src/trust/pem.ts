/**
 * PEM armour. Written by hand rather than with forge.pem so the output uses LF line
 * endings and the 64-column layout openssl writes (forge emits CRLF).
 */

export interface PemBlock {
  label: string;
  der: Buffer;
  /** RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`): OpenSSL's legacy key encryption, which we do not read. */
  legacyHeaders: boolean;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function encodePem(label: string, der: Buffer): string {
  const base64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/**
 * Whether `text` holds PEM blocks and whitespace only: no text around them, no RFC 1421
 * headers, no characters a base64 decoder would skip. Such a text says nothing beyond its DER.
 */
export function isPemOnly(text: string): boolean {
  const blocks = [...text.matchAll(BLOCK)];
  return blocks.length > 0 && blocks.every((match) => BASE64_BODY.test(match[2] ?? '')) && text.replace(BLOCK, '').trim() === '';
}

/** Every PEM block in the text, in order. */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const body = match[2] ?? '';
    const legacyHeaders = /^[A-Za-z-]+:/m.test(body);
    const base64 = legacyHeaders ? '' : body.replace(/\s+/g, '');
    blocks.push({ label: match[1] ?? '', der: Buffer.from(base64, 'base64'), legacyHeaders });
  }
  return blocks;
}

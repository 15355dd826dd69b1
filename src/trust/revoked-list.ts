/**
 * revoked.txt: one key id per line, `#` starts a comment. Kept apart from trust.yaml so a
 * site can revoke by appending a line: revoking only ever removes trust, so it needs no
 * signed update.
 */
import { isKeyId } from './key-id.js';

export function parseRevokedList(text: string, source: string): { revoked: Set<string>; problems: string[] } {
  const revoked = new Set<string>();
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (isKeyId(line)) revoked.add(line);
    else problems.push(`${source}: line ${index + 1}: expected a key id (64 lowercase hex digits)`);
  });
  return { revoked, problems };
}

/**
 * Which keys are revoked. revoked.txt lists key ids, but one key can be written down with
 * several ids (an RSA key under rsaEncryption and under id-RSASSA-PSS): a key is revoked
 * when its own id or its identity is listed, or when any key known here with the same
 * identity is listed by its id. So revoking a key under one of its ids revokes it under all.
 */

/** What names a key: its id as written, and its identity (see PublicKey.identity). */
export interface KeyNames {
  keyId: string;
  identity: string;
}

export type IsRevoked = (key: KeyNames) => boolean;

export function revocationCheck(revoked: ReadonlySet<string>, known: Iterable<KeyNames>): IsRevoked {
  // A plain key's identity equals its id, so a listed id also names an identity.
  const identities = new Set(revoked);
  for (const key of known) if (revoked.has(key.keyId)) identities.add(key.identity);
  return (key) => revoked.has(key.keyId) || identities.has(key.identity);
}

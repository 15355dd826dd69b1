/** Who runs airlock, for the lock, the journal, the state and the audit log. */
import { userInfo } from 'node:os';

export function currentUser(): string {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = `uid ${process.getuid?.() ?? '?'}`;
  }
  // Under sudo the person is SUDO_USER; the account that acted is still the one that ran.
  const sudo = process.env.SUDO_USER;
  return sudo && sudo !== name ? `${name} (sudo by ${sudo})` : name;
}

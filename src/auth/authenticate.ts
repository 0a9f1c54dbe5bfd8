// Password login: the one way protocol code gets an AccountStore handle
// (DESIGN.md invariant 5). An unknown user costs the same argon2 work as a wrong
// password, so the answer's timing does not tell which accounts exist.
import type { AccountStore, MailStore } from '../store/types.js';
import { hashPassword, needsRehash, verifyPassword } from './password.js';

let decoyHash: Promise<string> | undefined;

export async function authenticate(store: MailStore, login: string, password: string): Promise<AccountStore | null> {
  const stored = await store.admin.getPasswordHash(login);
  if (stored === null) {
    decoyHash ??= hashPassword('postkeep-decoy-password');
    await verifyPassword(await decoyHash, password);
    return null;
  }
  if (!(await verifyPassword(stored, password))) return null;
  // A hash made with older parameters is upgraded at the first successful login.
  if (needsRehash(stored)) await store.admin.setPasswordHash(login, await hashPassword(password));
  return store.account(login);
}

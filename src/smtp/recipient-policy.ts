// Who may receive through this server, decided at RCPT TO (RFC 5321 §3.3):
// local addresses (accounts and aliases of local domains) from anyone; any other
// domain only from an authenticated sender (no open relay, ever).
import type { MailStore } from '../store/types.js';
import { SmtpReply } from './smtp-reply.js';

export type RecipientDecision = { kind: 'local'; login: string } | { kind: 'remote'; domain: string };

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

export async function isLocalDomain(store: MailStore, domain: string): Promise<boolean> {
  const domains = await store.admin.listDomains();
  return domains.some((entry) => entry.name.toLowerCase() === domain);
}

/**
 * @param declaredSize the MAIL FROM SIZE= parameter (RFC 1870), when given: a
 *   message that cannot fit in the recipient's quota is refused before DATA.
 */
export async function checkRecipient(store: MailStore, address: string, options: { authenticated: boolean; declaredSize?: number }): Promise<RecipientDecision> {
  const domain = domainOf(address);
  if (domain === '') throw new SmtpReply(550, '5.1.3', 'Recipient address has no domain');
  if (!(await isLocalDomain(store, domain))) {
    if (options.authenticated) return { kind: 'remote', domain };
    throw new SmtpReply(554, '5.7.1', `Relay access denied: ${domain} is not a local domain`);
  }
  const login = await store.admin.resolveAddress(address);
  if (login === null) throw new SmtpReply(550, '5.1.1', 'No such user here');
  const usage = await (await store.account(login)).quota();
  const storageFull = usage.storage.limit !== null && usage.storage.used >= usage.storage.limit;
  const messagesFull = usage.messages.limit !== null && usage.messages.used >= usage.messages.limit;
  // RFC 3463 X.2.2 mailbox full: transient (452) while the owner can still make room.
  if (storageFull || messagesFull) throw new SmtpReply(452, '4.2.2', 'Mailbox full, try again later');
  if (options.declaredSize !== undefined && usage.storage.limit !== null && usage.storage.used + options.declaredSize > usage.storage.limit) {
    // RFC 1870 §6.2: the declared size exceeds what this recipient can take.
    throw new SmtpReply(552, '5.2.2', 'Message too large for the recipient\'s mailbox quota');
  }
  return { kind: 'local', login };
}

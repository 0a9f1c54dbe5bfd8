// Who may receive through this server, decided at RCPT TO (RFC 5321 §3.3):
// local addresses (accounts and aliases of local domains) from anyone; any other
// domain only from an authenticated sender (no open relay, ever). postmaster@
// of every local domain, and a bare "postmaster", is always local (postmaster.ts).
import type { MailStore } from '../store/types.js';
import { isPostmasterAddress, type PostmasterRoute } from './postmaster.js';
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
 * The account a local recipient delivers to: its account or alias, else for
 * postmaster (RFC 5321 §4.5.1) the configured postmaster account; null when the
 * address is not local.
 */
export async function resolveLocalRecipient(store: MailStore, postmaster: PostmasterRoute, address: string): Promise<string | null> {
  const login = await store.admin.resolveAddress(address);
  if (login !== null || !isPostmasterAddress(address)) return login;
  const domain = domainOf(address);
  // "RCPT TO:<Postmaster>" without a domain is this server's own postmaster.
  if (domain !== '' && !(await isLocalDomain(store, domain))) return null;
  return postmaster.login();
}

/**
 * @param declaredSize the MAIL FROM SIZE= parameter (RFC 1870), when given: a
 *   message that cannot fit in the recipient's quota is refused before DATA.
 */
export async function checkRecipient(
  store: MailStore,
  address: string,
  options: { authenticated: boolean; declaredSize?: number; postmaster: PostmasterRoute },
): Promise<RecipientDecision> {
  const domain = domainOf(address);
  if (domain === '' && !isPostmasterAddress(address)) throw new SmtpReply(550, '5.1.3', 'Recipient address has no domain');
  if (domain !== '' && !(await isLocalDomain(store, domain))) {
    if (options.authenticated) return { kind: 'remote', domain };
    throw new SmtpReply(554, '5.7.1', `Relay access denied: ${domain} is not a local domain`);
  }
  const login = await resolveLocalRecipient(store, options.postmaster, address);
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

// An unauthenticated sender on the MX claiming one of our own domains (in MAIL
// FROM or in From:) is refused unless the claim is proven: SPF passed for that
// domain (RFC 7208), or a DKIM signature by that domain verified (RFC 6376).
// Our own users send through submission, authenticated, so mail "from" a local
// domain arriving at the MX without such proof is a spoof aimed at local users.
// The From: addresses are read as broadly as any reader might read them (the
// lenient IMAP parser, nodemailer's addressparser before and after decoding
// encoded-words, lines split at a bare CR too),
// so that no reading of the header shows a local address that was not checked.
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { parseAddressList } from '../mime/address.js';
import type { MailStore } from '../store/types.js';
import { headerSectionEnd } from './header-section.js';
import { domainOf } from './recipient-policy.js';
import { replyText } from './reply-text.js';
import { SmtpReply } from './smtp-reply.js';

export interface SenderProof {
  /** The domain SPF passed for, lower case, or null. */
  spfPassDomain: string | null;
  /** Domains whose DKIM signatures verified, lower case. */
  dkimPassDomains: string[];
}

/** The unfolded values of every From: field in the header section of `head`. */
export function fromValues(head: Buffer): string[] {
  const end = headerSectionEnd(head) ?? head.length;
  const values: { name: string; value: string }[] = [];
  for (const line of head.toString('latin1', 0, end).split(/\r\n|\r|\n/)) {
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      if (values.length > 0) values[values.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) values.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) });
    else values.push({ name: '', value: '' });
  }
  return values.filter((field) => field.name === 'from').map((field) => field.value);
}

function normalisedDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Every domain an address in these From: values is read to be in, by either parser. */
export function claimedDomains(values: string[]): Set<string> {
  const domains = new Set<string>();
  for (const value of values) {
    for (const entry of parseAddressList(value)) if (entry.host) domains.add(normalisedDomain(entry.host));
    // As it is, and as software that decodes RFC 2047 encoded-words before parsing reads it.
    let decoded = value;
    try {
      decoded = libmime.decodeWords(value);
    } catch {
      // undecodable: the raw reading stands
    }
    for (const reading of [value, decoded]) {
      for (const entry of addressparser(reading, { flatten: true })) if (entry.address) domains.add(normalisedDomain(domainOf(entry.address)));
    }
  }
  domains.delete('');
  return domains;
}

/**
 * Throws 550 5.7.1 when MAIL FROM or a From: address is in a local domain that
 * `proof` does not vouch for; `proof` is null when nothing was verified.
 */
export async function checkLocalDomainClaims(store: MailStore, sender: string, head: Buffer, proof: SenderProof | null): Promise<void> {
  const local = new Set((await store.admin.listDomains()).map((entry) => normalisedDomain(entry.name)));
  const claims: { domain: string; where: string }[] = [];
  if (sender) claims.push({ domain: normalisedDomain(domainOf(sender)), where: 'MAIL FROM' });
  for (const domain of claimedDomains(fromValues(head))) claims.push({ domain, where: 'From:' });
  for (const claim of claims) {
    if (!local.has(claim.domain)) continue;
    if (proof !== null && (proof.spfPassDomain === claim.domain || proof.dkimPassDomains.includes(claim.domain))) continue;
    throw new SmtpReply(550, '5.7.1', `${claim.where} is in ${replyText(claim.domain, 255)}, a domain of this server, but SPF did not pass for it: its users send through submission`);
  }
}

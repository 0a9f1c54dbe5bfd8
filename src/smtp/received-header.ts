// The Received trace field (RFC 5321 §4.4) each hop adds on top, and the loop
// check that counts them (§6.3: a message with too many is refused, not relayed).
import type { SMTPServerSession } from 'smtp-server';
import { headerFields } from './message-spool.js';

/** RFC 5322 §3.3 date-time, e.g. `Fri, 27 Nov 2026 22:55:29 +0000`. */
export function rfc5322Date(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${days[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Keeps a client-supplied word inside a header: no CR, LF or parentheses games. */
function clean(value: string): string {
  return value.replace(/[^\x21-\x7e]/g, '').replace(/[()\\]/g, '').slice(0, 255) || 'unknown';
}

export function receivedHeader(session: SMTPServerSession, hostname: string, recipients: readonly string[], now = new Date()): string {
  const helo = clean(String(session.hostNameAppearsAs || 'unknown'));
  const address = session.remoteAddress.includes(':') ? `IPv6:${session.remoteAddress}` : session.remoteAddress;
  const reverse = session.clientHostname && !session.clientHostname.startsWith('[') ? `${clean(session.clientHostname)} ` : '';
  const tls = session.tlsOptions ? `\r\n\t(version=${clean(session.tlsOptions.version ?? 'TLS')} cipher=${clean(session.tlsOptions.name)})` : '';
  // RFC 3848 protocol names: ESMTPS with TLS, ESMTPSA when also authenticated.
  const protocol = session.transmissionType || 'ESMTP';
  // A `for` clause only for a single recipient: it would disclose Bcc recipients otherwise.
  const forClause = recipients.length === 1 ? `\r\n\tfor <${clean(recipients[0]!)}>` : '';
  return `Received: from ${helo} (${reverse}[${address}])\r\n\tby ${hostname} (Postkeep) with ${protocol} id ${clean(session.id)}${tls}${forClause};\r\n\t${rfc5322Date(now)}\r\n`;
}

export function countReceived(headerSection: string): number {
  return headerFields(headerSection).filter((field) => field.name === 'received').length;
}

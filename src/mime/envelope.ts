// Builds the IMAP ENVELOPE (RFC 3501 §7.4.2) from a part's header fields.
// Strings are the unfolded header text, not RFC 2047 decoded: IMAP sends
// them as they are and the client decodes.

import type { Address, Envelope } from './structure.js';
import { parseAddressList } from './address.js';

/** Header value lookup: first occurrence of a lower-case field name, unfolded text, or null if absent. */
export type HeaderLookup = (name: string) => string | null;

function addresses(value: string | null): Address[] | null {
  if (value === null) return null;
  const list = parseAddressList(value);
  return list.length > 0 ? list : null;
}

export function buildEnvelope(header: HeaderLookup): Envelope {
  const from = addresses(header('from'));
  // RFC 3501 §7.4.2: Sender and Reply-To absent or empty default to From.
  const sender = addresses(header('sender')) ?? from;
  const replyTo = addresses(header('reply-to')) ?? from;
  return {
    date: header('date'),
    subject: header('subject'),
    from,
    sender,
    replyTo,
    to: addresses(header('to')),
    cc: addresses(header('cc')),
    bcc: addresses(header('bcc')),
    inReplyTo: header('in-reply-to'),
    messageId: header('message-id'),
  };
}

export function emptyEnvelope(): Envelope {
  return buildEnvelope(() => null);
}

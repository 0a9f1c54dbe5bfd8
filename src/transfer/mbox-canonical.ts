// What an mbox message becomes when it is stored: an RFC 5322 message, with CRLF line
// ends (RFC 5322 §2.1: lines end in CRLF; an mbox on Unix has bare LF, which IMAP
// would then serve as is), and without the header fields that are mbox bookkeeping:
// the ones import turned into flags, and the state other mbox servers kept there.
// Dovecot and UW-IMAP hide the same fields when they serve an mbox.

/** Lower-case names of the fields dropped from the header. */
const bookkeepingFields = new Set([
  // Flags (see flagsOf in mbox.ts): they are IMAP flags now, and would go stale.
  'status',
  'x-status',
  'x-keywords',
  'x-mozilla-status',
  'x-mozilla-status2',
  'x-mozilla-keys',
  // UW-IMAP/Dovecot mbox state: UIDs and UIDVALIDITY of another server.
  'x-uid',
  'x-imap',
  'x-imapbase',
  // The body length some mbox writers record (Solaris): wrong once lines end in CRLF.
  'content-length',
]);

const crlf = Buffer.from('\r\n');

/** The message with CRLF line ends and without mbox bookkeeping fields in its header. */
export function canonicalMboxMessage(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let inHeader = true;
  let dropping = false;
  let start = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline < 0 ? bytes.length : newline;
    // The line without its ending, whether that was LF or CRLF.
    const content = bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
    start = newline < 0 ? bytes.length : newline + 1;
    if (inHeader) {
      if (content.length === 0) {
        inHeader = false;
        dropping = false;
      } else if (content[0] === 0x20 || content[0] === 0x09) {
        // A folded continuation belongs to the field before it (RFC 5322 §2.2.3).
        if (dropping) continue;
      } else {
        const colon = content.indexOf(0x3a);
        dropping = colon > 0 && bookkeepingFields.has(content.subarray(0, colon).toString('latin1').trim().toLowerCase());
        if (dropping) continue;
      }
    }
    parts.push(content);
    // A last line without a newline stays without one: nothing is added to the message.
    if (newline >= 0) parts.push(crlf);
  }
  return Buffer.concat(parts);
}

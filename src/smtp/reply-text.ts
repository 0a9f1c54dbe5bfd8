// Text that goes into an SMTP reply line must stay one short ASCII line (RFC
// 5321 §4.5.3.1.5: a reply line is at most 512 octets), whatever part of the
// client's input it quotes.

/** Printable US-ASCII only (anything else becomes "?"), cut to `limit` characters. */
export function replyText(text: string, limit = 400): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= limit ? printable : printable.slice(0, limit - 3) + '...';
}

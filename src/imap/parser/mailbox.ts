// Mailbox names and LIST patterns (RFC 9051 §5.1, §9 `mailbox`, `list-mailbox`).
import { decodeCanonicalModifiedUtf7 } from '../../transfer/modified-utf7.js';
import { decodeUtf8, isAtomChar, type Cursor } from './cursor.js';
import { ParseError } from './parse-error.js';
import type { ParseOptions } from './types.js';

function toName(bytes: Buffer, options: ParseOptions, what: string, pattern = false): string {
  if (options.utf8) return decodeUtf8(bytes, what);
  // RFC 3501 §5.1.3: without UTF8=ACCEPT names travel as 7-bit modified UTF-7.
  for (const byte of bytes) {
    if (byte >= 0x80) throw new ParseError('mailbox-name', `${what} has 8-bit characters; use modified UTF-7 or ENABLE UTF8=ACCEPT`);
  }
  const text = bytes.toString('latin1');
  // Only the canonical form: another spelling of a name (printable ASCII in base64) is refused like invalid UTF-7.
  const decoded = decodeCanonicalModifiedUtf7(text);
  if (decoded !== null) return decoded;
  // A pattern is only compared: taken as written it matches what it can, and LIST answers OK.
  if (pattern) return text;
  // The command is well formed; no mailbox can have this name, so it is a NO (as for one that does not exist).
  throw new ParseError('mailbox-name', `${what} is not valid modified UTF-7 in its canonical form (RFC 3501 section 5.1.3)`, { status: 'NO', responseCode: 'CANNOT' });
}

/** mailbox = "INBOX" / astring; INBOX in any case is INBOX (RFC 9051 §5.1). */
export function readMailbox(cursor: Cursor, options: ParseOptions, what = 'mailbox name'): string {
  const name = toName(cursor.astringBytes(what), options, what);
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** list-mailbox = 1*list-char / string, where list-char adds `%`, `*` and `]` to ATOM-CHAR. */
export function readListMailbox(cursor: Cursor, options: ParseOptions): string {
  const byte = cursor.peek();
  if (byte === 0x22 || cursor.atLiteral()) return toName(cursor.stringBytes('mailbox pattern'), options, 'mailbox pattern', true);
  const text = cursor.run((value) => isAtomChar(value) || value === 0x25 || value === 0x2a || value === 0x5d);
  if (text === '') throw new ParseError('syntax', `expected a mailbox pattern instead of ${cursor.describe()}`);
  return toName(Buffer.from(text, 'latin1'), options, 'mailbox pattern', true);
}

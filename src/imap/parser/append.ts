// APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), BINARY literal8 (RFC 3516 §4.2)
// and UTF8 (RFC 6855 §4, now RFC 9755).
import { syntaxError, type Cursor } from './cursor.js';
import { readDateTime } from './date-time.js';
import { readFlagList } from './flags.js';
import { readMailbox } from './mailbox.js';
import type { AppendMessage, Command, ParseOptions } from './types.js';

const maximumMessages = 1000;

function readContent(cursor: Cursor, requireBinary: boolean): AppendMessage['content'] {
  if (requireBinary && cursor.peek() !== 0x7e) throw syntaxError('UTF8 APPEND data must be a literal8');
  const literal = cursor.literal(true);
  if (literal.kind === 'streamed') return { kind: 'streamed', index: literal.index, size: literal.size, binary: literal.binary };
  return { kind: 'buffered', bytes: literal.bytes, binary: literal.binary };
}

// append-message = [SP flag-list] [SP date-time] SP append-data
function readMessage(cursor: Cursor): AppendMessage {
  cursor.space();
  let flags: string[] = [];
  let date: Date | null = null;
  if (cursor.is(0x28)) {
    flags = readFlagList(cursor);
    cursor.space();
  }
  if (cursor.is(0x22)) {
    date = readDateTime(cursor);
    cursor.space();
  }
  if (cursor.takeWord('UTF8')) {
    // RFC 6855 §4: "UTF8" SP "(" literal8 ")"
    cursor.space();
    cursor.expect('(');
    const content = readContent(cursor, true);
    cursor.expect(')');
    return { flags, date, utf8: true, content };
  }
  return { flags, date, utf8: false, content: readContent(cursor, false) };
}

export function readAppend(cursor: Cursor, tag: string, options: ParseOptions): Extract<Command, { name: 'APPEND' }> {
  cursor.space();
  const mailbox = readMailbox(cursor, options);
  const messages: AppendMessage[] = [];
  do {
    messages.push(readMessage(cursor));
    if (messages.length > maximumMessages) throw syntaxError(`APPEND is limited to ${maximumMessages} messages`);
  } while (!cursor.atEnd());
  return { tag, name: 'APPEND', mailbox, messages };
}

// STATUS (RFC 9051 §6.3.11) and the status items of RFC 8438 (SIZE), RFC 7162
// (HIGHESTMODSEQ), RFC 8474 (MAILBOXID), RFC 7889 (APPENDLIMIT), RFC 9208 (DELETED-STORAGE).
import { syntaxError, type Cursor } from './cursor.js';
import { readMailbox } from './mailbox.js';
import type { Command, ParseOptions, StatusItem } from './types.js';

const statusItems = new Set<string>(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'MAILBOXID', 'APPENDLIMIT', 'DELETED-STORAGE']);

/** "(" status-att *(SP status-att) ")" — also used by LIST RETURN (STATUS ...). */
export function readStatusItems(cursor: Cursor): StatusItem[] {
  const items = cursor.list(
    () => {
      const item = cursor.keyword('status item');
      if (!statusItems.has(item)) throw syntaxError(`unknown status item ${item}`);
      return item as StatusItem;
    },
    { what: 'status items', limit: 20 },
  );
  return [...new Set(items)];
}

export function readStatus(cursor: Cursor, tag: string, options: ParseOptions): Extract<Command, { name: 'STATUS' }> {
  cursor.space();
  const mailbox = readMailbox(cursor, options);
  cursor.space();
  const items = readStatusItems(cursor);
  cursor.end();
  return { tag, name: 'STATUS', mailbox, items };
}

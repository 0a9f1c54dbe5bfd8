// THREAD (RFC 5256 §3): ORDEREDSUBJECT, REFERENCES or an extension algorithm the server may refuse.
import type { Cursor } from './cursor.js';
import { readSearchCriteria } from './search.js';
import type { Command, ParseOptions } from './types.js';

export function readThread(cursor: Cursor, tag: string, uid: boolean, options: ParseOptions): Extract<Command, { name: 'THREAD' }> {
  cursor.space();
  const algorithm = cursor.atom('thread algorithm').toUpperCase();
  cursor.space();
  return { tag, name: 'THREAD', uid, algorithm, query: readSearchCriteria(cursor, options) };
}

// ID (RFC 2971 §3.3).
import { syntaxError, type Cursor } from './cursor.js';
import type { Command } from './types.js';

// RFC 2971 §3.3: at most 30 field-value pairs.
const maximumPairs = 30;

export function readId(cursor: Cursor, tag: string): Extract<Command, { name: 'ID' }> {
  cursor.space();
  if (cursor.takeWord('NIL')) {
    cursor.end();
    return { tag, name: 'ID', parameters: null };
  }
  const parameters: [string, string | null][] = [];
  cursor.expect('(');
  if (!cursor.take(0x29)) {
    for (;;) {
      const field = cursor.string('ID field');
      cursor.space();
      parameters.push([field, cursor.nstring('ID value')]);
      if (parameters.length > maximumPairs) throw syntaxError(`ID is limited to ${maximumPairs} fields`);
      if (cursor.take(0x29)) break;
      cursor.space();
    }
  }
  cursor.end();
  return { tag, name: 'ID', parameters };
}

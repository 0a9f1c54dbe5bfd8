// STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3).
import { syntaxError, type Cursor } from './cursor.js';
import { readFlag, readFlagList } from './flags.js';
import { readSequenceSet } from './sequence-set.js';
import type { Command, StoreMode } from './types.js';

export function readStore(cursor: Cursor, tag: string, uid: boolean): Extract<Command, { name: 'STORE' }> {
  cursor.space();
  const set = readSequenceSet(cursor);
  cursor.space();
  let unchangedSince: number | null = null;
  if (cursor.is(0x28)) {
    cursor.list(
      () => {
        const modifier = cursor.keyword('store modifier');
        if (modifier !== 'UNCHANGEDSINCE') throw syntaxError(`unknown store modifier ${modifier}`);
        cursor.space();
        unchangedSince = cursor.number64('mod-sequence');
      },
      { what: 'store modifiers', limit: 10 },
    );
    cursor.space();
  }
  const mode: StoreMode = cursor.take(0x2b) ? 'add' : cursor.take(0x2d) ? 'remove' : 'replace';
  const item = cursor.keyword('FLAGS');
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') throw syntaxError(`expected FLAGS or FLAGS.SILENT instead of ${item}`);
  cursor.space();
  let flags: string[];
  if (cursor.is(0x28)) flags = readFlagList(cursor);
  else {
    // RFC 9051 §9: the parentheses may be left out: flag *(SP flag)
    flags = [readFlag(cursor)];
    while (cursor.trySpace()) {
      flags.push(readFlag(cursor));
      if (flags.length > 1000) throw syntaxError('too many flags');
    }
  }
  cursor.end();
  return { tag, name: 'STORE', uid, set, mode, silent: item === 'FLAGS.SILENT', flags, unchangedSince };
}

// CREATE (RFC 9051 §6.3.4) with the USE parameter of CREATE-SPECIAL-USE (RFC 6154 §3).
import { syntaxError, type Cursor } from './cursor.js';
import { readMailbox } from './mailbox.js';
import type { Command, ParseOptions } from './types.js';

const uses = new Map(['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'].map((use) => [use.toUpperCase(), use]));

function readUse(cursor: Cursor): string {
  cursor.expect('\\');
  const use = '\\' + cursor.atom('special-use attribute');
  // Unknown use-attr-ext values are passed on: the server answers NO [USEATTR] (RFC 6154 §3).
  return uses.get(use.toUpperCase()) ?? use;
}

export function readCreate(cursor: Cursor, tag: string, options: ParseOptions): Extract<Command, { name: 'CREATE' }> {
  cursor.space();
  const mailbox = readMailbox(cursor, options);
  const specialUse: string[] = [];
  if (cursor.trySpace()) {
    cursor.list(
      () => {
        const parameter = cursor.keyword('create parameter');
        if (parameter !== 'USE') throw syntaxError(`unknown create parameter ${parameter}`);
        cursor.space();
        specialUse.push(...cursor.list(() => readUse(cursor), { allowEmpty: true, limit: 10, what: 'special-use list' }));
      },
      { what: 'create parameters', limit: 10 },
    );
  }
  cursor.end();
  return { tag, name: 'CREATE', mailbox, specialUse: [...new Set(specialUse)] };
}

// LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154); LSUB (RFC 3501 §6.3.9).
import { syntaxError, type Cursor } from './cursor.js';
import { readListMailbox, readMailbox } from './mailbox.js';
import { readStatusItems } from './status.js';
import type { Command, ListReturnOptions, ListSelectOption, ParseOptions } from './types.js';

const selectOptions = new Set(['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE']);

function readSelectOptions(cursor: Cursor): ListSelectOption[] {
  const chosen = cursor.list(
    () => {
      const option = cursor.keyword('selection option');
      // RFC 5258 §3: an unknown selection option is a BAD.
      if (!selectOptions.has(option)) throw syntaxError(`unknown LIST selection option ${option}`);
      return option as ListSelectOption;
    },
    { allowEmpty: true, limit: 10, what: 'selection options' },
  );
  // RFC 5258 §3: RECURSIVEMATCH alone (without a base option) is a BAD.
  if (chosen.includes('RECURSIVEMATCH') && !chosen.includes('SUBSCRIBED') && !chosen.includes('SPECIAL-USE')) {
    throw syntaxError('RECURSIVEMATCH needs another selection option');
  }
  return [...new Set(chosen)];
}

function readReturnOptions(cursor: Cursor): ListReturnOptions {
  const options: ListReturnOptions = { subscribed: false, children: false, specialUse: false, status: null };
  cursor.list(
    () => {
      const option = cursor.keyword('return option');
      if (option === 'SUBSCRIBED') options.subscribed = true;
      else if (option === 'CHILDREN') options.children = true;
      else if (option === 'SPECIAL-USE') options.specialUse = true;
      else if (option === 'STATUS') {
        cursor.space();
        options.status = readStatusItems(cursor);
      } else throw syntaxError(`unknown LIST return option ${option}`);
    },
    { allowEmpty: true, limit: 10, what: 'return options' },
  );
  return options;
}

export function readList(cursor: Cursor, tag: string, options: ParseOptions): Extract<Command, { name: 'LIST' }> {
  cursor.space();
  let extended = false;
  let selected: ListSelectOption[] = [];
  if (cursor.is(0x28)) {
    extended = true;
    selected = readSelectOptions(cursor);
    cursor.space();
  }
  const reference = readMailbox(cursor, options, 'reference name');
  cursor.space();
  let patterns: string[];
  if (cursor.is(0x28)) {
    extended = true;
    patterns = cursor.list(() => readListMailbox(cursor, options), { what: 'mailbox patterns', limit: options.listItems ?? 1000 });
  } else patterns = [readListMailbox(cursor, options)];
  let returnOptions: ListReturnOptions = { subscribed: false, children: false, specialUse: false, status: null };
  if (cursor.trySpace()) {
    if (!cursor.takeWord('RETURN')) throw syntaxError(`expected RETURN instead of ${cursor.describe()}`);
    extended = true;
    cursor.space();
    returnOptions = readReturnOptions(cursor);
  }
  cursor.end();
  return { tag, name: 'LIST', reference, patterns, selectOptions: selected, returnOptions, extended };
}

export function readLsub(cursor: Cursor, tag: string, options: ParseOptions): Extract<Command, { name: 'LSUB' }> {
  cursor.space();
  const reference = readMailbox(cursor, options, 'reference name');
  cursor.space();
  const pattern = readListMailbox(cursor, options);
  cursor.end();
  return { tag, name: 'LSUB', reference, pattern };
}

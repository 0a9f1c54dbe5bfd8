// FETCH items and modifiers (RFC 9051 §6.4.5, RFC 7162 §3.1.4 and §3.2.6, RFC 8474 §5, RFC 8514).
import { syntaxError, type Cursor } from './cursor.js';
import { readSequenceSet } from './sequence-set.js';
import type { Command, FetchItem, FetchModifiers, FetchPartial, Section, SectionText } from './types.js';

type Fetch = Extract<Command, { name: 'FETCH' }>;

const simpleItems = new Set([
  'ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'BODYSTRUCTURE', 'UID',
  'MODSEQ', 'EMAILID', 'THREADID', 'SAVEDATE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT',
]);

// RFC 9051 §6.4.5: the macros are not to be combined with other items.
const macros: Record<string, FetchItem['item'][]> = {
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

// section-part = nz-number *("." nz-number); the cursor is at the first digit.
function readPart(cursor: Cursor): number[] {
  const part = [cursor.number('section part', true)];
  while (cursor.is(0x2e)) {
    const save = cursor.offset;
    cursor.offset++;
    if (!isDigit(cursor.peek())) {
      cursor.offset = save;
      break;
    }
    part.push(cursor.number('section part', true));
    if (part.length > 100) throw syntaxError('section part nested too deeply');
  }
  return part;
}

function readSectionText(cursor: Cursor, afterPart: boolean): SectionText {
  const name = cursor.run((byte) => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2e).toUpperCase();
  switch (name) {
    case 'HEADER':
    case 'TEXT':
      return { kind: name };
    case 'MIME':
      // RFC 9051 §6.4.5: MIME only follows a part number.
      if (!afterPart) throw syntaxError('MIME needs a section part');
      return { kind: 'MIME' };
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      cursor.space();
      const fields = cursor.list(() => cursor.astring('header field name'), { what: 'header list' });
      return { kind: name, fields };
    }
  }
  throw syntaxError(`unknown section ${name || cursor.describe()}`);
}

/** section = "[" [section-spec] "]" */
function readSection(cursor: Cursor): Section {
  cursor.expect('[');
  let part: number[] = [];
  let text: SectionText | null = null;
  if (isDigit(cursor.peek())) {
    part = readPart(cursor);
    if (cursor.take(0x2e)) text = readSectionText(cursor, true);
  } else if (!cursor.is(0x5d)) {
    text = readSectionText(cursor, false);
  }
  cursor.expect(']');
  return { part, text };
}

/** section-binary = "[" [section-part] "]" */
function readBinarySection(cursor: Cursor): number[] {
  cursor.expect('[');
  const part = isDigit(cursor.peek()) ? readPart(cursor) : [];
  cursor.expect(']');
  return part;
}

/** partial = "<" number64 "." nz-number64 ">" */
function readPartial(cursor: Cursor): FetchPartial | null {
  if (!cursor.take(0x3c)) return null;
  const offset = cursor.number64('partial offset');
  cursor.expect('.');
  const length = cursor.number64('partial length');
  if (length === 0) throw syntaxError('partial length must not be zero');
  cursor.expect('>');
  return { offset, length };
}

function readItem(cursor: Cursor): FetchItem {
  const name = cursor.keyword('fetch item');
  if (simpleItems.has(name)) return { item: name } as FetchItem;
  switch (name) {
    case 'BODY':
      if (!cursor.is(0x5b)) return { item: 'BODY' };
    // falls through
    case 'BODY.PEEK': {
      const section = readSection(cursor);
      return { item: 'BODY[]', section, partial: readPartial(cursor), peek: name === 'BODY.PEEK' };
    }
    case 'BINARY':
    case 'BINARY.PEEK': {
      const part = readBinarySection(cursor);
      return { item: 'BINARY[]', part, partial: readPartial(cursor), peek: name === 'BINARY.PEEK' };
    }
    case 'BINARY.SIZE':
      return { item: 'BINARY.SIZE', part: readBinarySection(cursor) };
  }
  throw syntaxError(`unknown fetch item ${name}`);
}

function readModifiers(cursor: Cursor, uid: boolean): FetchModifiers {
  const modifiers: FetchModifiers = { changedSince: null, vanished: false };
  cursor.list(
    () => {
      const name = cursor.keyword('fetch modifier');
      if (name === 'CHANGEDSINCE') {
        cursor.space();
        modifiers.changedSince = cursor.number64('mod-sequence');
      } else if (name === 'VANISHED') {
        // RFC 7162 §3.2.6: only in UID FETCH.
        if (!uid) throw syntaxError('VANISHED is only allowed in UID FETCH');
        modifiers.vanished = true;
      } else throw syntaxError(`unknown fetch modifier ${name}`);
    },
    { what: 'fetch modifiers', limit: 10 },
  );
  // RFC 7162 §3.2.6: VANISHED without CHANGEDSINCE is a BAD.
  if (modifiers.vanished && modifiers.changedSince === null) throw syntaxError('VANISHED requires CHANGEDSINCE');
  return modifiers;
}

/** After "FETCH"; the cursor is at the SP before the sequence set. */
export function readFetch(cursor: Cursor, tag: string, uid: boolean): Fetch {
  cursor.space();
  const set = readSequenceSet(cursor);
  cursor.space();
  let items: FetchItem[];
  let macro: Fetch['macro'] = null;
  if (cursor.is(0x28)) {
    items = cursor.list(() => readItem(cursor), { what: 'fetch items', limit: 1000 });
  } else {
    const save = cursor.offset;
    const word = cursor.keyword('fetch item');
    if (word === 'ALL' || word === 'FAST' || word === 'FULL') {
      macro = word;
      items = macros[word]!.map((item) => ({ item }) as FetchItem);
    } else {
      cursor.offset = save;
      items = [readItem(cursor)];
    }
  }
  let modifiers: FetchModifiers = { changedSince: null, vanished: false };
  if (cursor.trySpace()) modifiers = readModifiers(cursor, uid);
  cursor.end();
  return { tag, name: 'FETCH', uid, set, items, macro, modifiers };
}

// SEARCH criteria (RFC 9051 §6.4.4, §9 `search-key`), with the keys of RFC 3501
// (NEW, OLD, RECENT), CONDSTORE (MODSEQ), WITHIN (OLDER, YOUNGER), OBJECTID
// (EMAILID, THREADID), SAVEDATE, ESEARCH return options and SEARCHRES.
import { syntaxError, type Cursor } from './cursor.js';
import { readDate } from './date-time.js';
import { ParseError } from './parse-error.js';
import { readSequenceSet } from './sequence-set.js';
import type { ParseOptions, SearchKey, SearchQuery, SearchReturnOption } from './types.js';

const flagKeys = new Set(['ALL', 'ANSWERED', 'DELETED', 'DRAFT', 'FLAGGED', 'NEW', 'OLD', 'RECENT', 'SEEN', 'UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNSEEN', 'SAVEDATESUPPORTED']);
const stringKeys = new Set(['BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO']);
const dateKeys = new Set(['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE', 'SAVEDBEFORE', 'SAVEDON', 'SAVEDSINCE']);
const returnOptions = new Set(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE']);
// RFC 8474 §4: objectid = 1*255(ALPHA / DIGIT / "_" / "-")
const objectIdPattern = /^[A-Za-z0-9_-]{1,255}$/;
const supportedCharsets = new Set(['UTF-8', 'US-ASCII']);

function readKey(cursor: Cursor, options: ParseOptions, depth: number): SearchKey {
  if (depth > (options.searchDepth ?? 32)) throw new ParseError('too-deep', 'search criteria nested too deeply');
  const byte = cursor.peek();
  if (byte === 0x28) {
    const operands = cursor.list(() => readKey(cursor, options, depth + 1), { what: 'search key list', limit: 10_000 });
    return { key: 'AND', operands };
  }
  if ((byte >= 0x30 && byte <= 0x39) || byte === 0x2a || byte === 0x24) return { key: 'SEQUENCE', set: readSequenceSet(cursor) };
  const name = cursor.keyword('search key');
  if (flagKeys.has(name)) return { key: name } as SearchKey;
  cursor.space();
  if (stringKeys.has(name)) return { key: name, value: cursor.astring('search string') } as SearchKey;
  if (dateKeys.has(name)) return { key: name, date: readDate(cursor) } as SearchKey;
  switch (name) {
    case 'KEYWORD':
    case 'UNKEYWORD':
      // flag-keyword = atom (RFC 9051 §9): system flags have their own keys.
      return { key: name, flag: cursor.atom('keyword') };
    case 'HEADER': {
      const field = cursor.astring('header field name');
      cursor.space();
      return { key: 'HEADER', field, value: cursor.astring('search string') };
    }
    case 'LARGER':
    case 'SMALLER':
      return { key: name, size: cursor.number64('size') };
    case 'OLDER':
    case 'YOUNGER':
      // RFC 5032: interval in seconds, nz-number.
      return { key: name, seconds: cursor.number('interval', true) };
    case 'UID':
      return { key: 'UID', set: readSequenceSet(cursor) };
    case 'NOT':
      return { key: 'NOT', operand: readKey(cursor, options, depth + 1) };
    case 'OR': {
      const left = readKey(cursor, options, depth + 1);
      cursor.space();
      return { key: 'OR', left, right: readKey(cursor, options, depth + 1) };
    }
    case 'MODSEQ': {
      // RFC 7162 §3.1.5: MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer
      let entry: { name: string; type: 'priv' | 'shared' | 'all' } | null = null;
      if (cursor.is(0x22)) {
        const entryName = cursor.string('entry name');
        cursor.space();
        const type = cursor.atom('entry type').toLowerCase();
        if (type !== 'priv' && type !== 'shared' && type !== 'all') throw syntaxError('entry type must be priv, shared or all');
        cursor.space();
        entry = { name: entryName, type };
      }
      return { key: 'MODSEQ', modseq: cursor.number64('mod-sequence'), entry };
    }
    case 'EMAILID':
    case 'THREADID': {
      const id = cursor.atom('object id');
      if (!objectIdPattern.test(id)) throw syntaxError('bad object id');
      return { key: name, id };
    }
  }
  throw syntaxError(`unknown search key ${name}`);
}

function readKeys(cursor: Cursor, options: ParseOptions): SearchKey[] {
  const keys: SearchKey[] = [];
  do {
    keys.push(readKey(cursor, options, 1));
    if (keys.length > 10_000) throw syntaxError('too many search keys');
  } while (cursor.trySpace());
  cursor.end();
  return keys;
}

function readCharset(cursor: Cursor): string {
  const charset = (cursor.is(0x22) ? cursor.string('charset') : cursor.atom('charset')).toUpperCase();
  // RFC 9051 §6.4.4: an unsupported charset gets NO [BADCHARSET (list)].
  if (!supportedCharsets.has(charset)) {
    throw new ParseError('syntax', `charset ${charset} is not supported`, { status: 'NO', responseCode: 'BADCHARSET (UTF-8 US-ASCII)' });
  }
  return charset;
}

/** RETURN ( [option *(SP option)] ) — RFC 4731 §3, RFC 5182 SAVE. Cursor just after "RETURN". */
export function readReturnOptions(cursor: Cursor): SearchReturnOption[] {
  cursor.space();
  const options = cursor.list(
    () => {
      const option = cursor.keyword('return option');
      if (!returnOptions.has(option)) throw syntaxError(`unknown return option ${option}`);
      return option as SearchReturnOption;
    },
    { allowEmpty: true, limit: 10, what: 'return options' },
  );
  return [...new Set(options)];
}

/** After "SEARCH" (cursor at the SP before the criteria). */
export function readSearchQuery(cursor: Cursor, options: ParseOptions): SearchQuery {
  cursor.space();
  let returns: SearchReturnOption[] | null = null;
  if (cursor.takeWord('RETURN')) {
    returns = readReturnOptions(cursor);
    cursor.space();
  }
  let charset: string | null = null;
  if (cursor.takeWord('CHARSET')) {
    cursor.space();
    charset = readCharset(cursor);
    cursor.space();
  }
  return { charset, returnOptions: returns, keys: readKeys(cursor, options) };
}

/** RFC 5256 search-criteria = charset 1*(SP search-key); cursor at the charset. */
export function readSearchCriteria(cursor: Cursor, options: ParseOptions): SearchQuery {
  const charset = readCharset(cursor);
  cursor.space();
  return { charset, returnOptions: null, keys: readKeys(cursor, options) };
}

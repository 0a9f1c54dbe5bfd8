// SORT (RFC 5256 §3) with DISPLAYFROM/DISPLAYTO (RFC 5957) and ESORT return options (RFC 5267 §3).
import { syntaxError, type Cursor } from './cursor.js';
import { readReturnOptions, readSearchCriteria } from './search.js';
import type { Command, ParseOptions, SearchReturnOption, SortCriterion, SortKey } from './types.js';

const sortKeys = new Set(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

function readCriterion(cursor: Cursor): SortCriterion {
  let key = cursor.keyword('sort key');
  let reverse = false;
  if (key === 'REVERSE') {
    reverse = true;
    cursor.space();
    key = cursor.keyword('sort key');
  }
  if (!sortKeys.has(key)) throw syntaxError(`unknown sort key ${key}`);
  return { key: key as SortKey, reverse };
}

export function readSort(cursor: Cursor, tag: string, uid: boolean, options: ParseOptions): Extract<Command, { name: 'SORT' }> {
  cursor.space();
  let returnOptions: SearchReturnOption[] | null = null;
  if (cursor.takeWord('RETURN')) {
    returnOptions = readReturnOptions(cursor);
    cursor.space();
  }
  const criteria = cursor.list(() => readCriterion(cursor), { what: 'sort criteria', limit: 20 });
  cursor.space();
  return { tag, name: 'SORT', uid, criteria, returnOptions, query: readSearchCriteria(cursor, options) };
}

// Flags in STORE and APPEND (RFC 9051 §9 `flag`, `flag-list`).
import { syntaxError, type Cursor } from './cursor.js';

const systemFlags = new Map(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'].map((flag) => [flag.toUpperCase(), flag]));

/** flag = system flag / flag-keyword / flag-extension; system flags come back in their RFC spelling. */
export function readFlag(cursor: Cursor): string {
  if (cursor.take(0x5c)) {
    const name = cursor.atom('flag');
    const flag = '\\' + name;
    const system = systemFlags.get(flag.toUpperCase());
    if (system) return system;
    // RFC 9051 §2.3.2: \Recent cannot be set; other flag-extensions are not defined.
    throw syntaxError(`${flag} cannot be set`);
  }
  return cursor.atom('flag');
}

/** flag-list = "(" [flag *(SP flag)] ")" */
export function readFlagList(cursor: Cursor, limit = 1000): string[] {
  return cursor.list(() => readFlag(cursor), { allowEmpty: true, limit, what: 'flag list' });
}

// One command frame in, one typed command (or a ParseError) out: tag, name, then the
// grammar of that command (RFC 9051 §6, §9). Never throws.
import { readAppend } from './append.js';
import { readAuthenticate } from './authenticate.js';
import type { CommandFrame } from './command-reader.js';
import { readCreate } from './create.js';
import { Cursor, isAtomChar, syntaxError } from './cursor.js';
import { readFetch } from './fetch.js';
import { readId } from './id.js';
import { readList, readLsub } from './list.js';
import { readMailbox } from './mailbox.js';
import { ParseError } from './parse-error.js';
import { readSearchQuery } from './search.js';
import { readSelect } from './select.js';
import { readSequenceSet } from './sequence-set.js';
import { readSort } from './sort.js';
import { readStatus } from './status.js';
import { readStore } from './store.js';
import { readThread } from './thread.js';
import type { Command, ParseOptions, SimpleCommandName } from './types.js';

export type ParseResult = { ok: true; command: Command } | { ok: false; error: ParseError };

const simpleCommands = new Set<string>(['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE']);

// RFC 9051 §9: tag = 1*<any ASTRING-CHAR except "+">
function readTag(cursor: Cursor): string {
  const tag = cursor.run((byte) => (isAtomChar(byte) || byte === 0x5d) && byte !== 0x2b);
  if (tag === '') throw syntaxError('missing tag');
  if (cursor.peek() !== 0x20) throw syntaxError('expected a space after the tag');
  return tag;
}

function readUidCommand(cursor: Cursor, tag: string, options: ParseOptions): Command {
  cursor.space();
  const name = cursor.atom('command after UID').toUpperCase();
  switch (name) {
    case 'FETCH':
      return readFetch(cursor, tag, true);
    case 'SEARCH':
      return { tag, name: 'SEARCH', uid: true, query: readSearchQuery(cursor, options) };
    case 'STORE':
      return readStore(cursor, tag, true);
    case 'COPY':
    case 'MOVE':
      return readCopy(cursor, tag, name, true, options);
    case 'EXPUNGE': {
      // RFC 4315 §2.1
      cursor.space();
      const set = readSequenceSet(cursor);
      cursor.end();
      return { tag, name: 'UID EXPUNGE', set };
    }
    case 'SORT':
      return readSort(cursor, tag, true, options);
    case 'THREAD':
      return readThread(cursor, tag, true, options);
  }
  throw new ParseError('unknown-command', `UID ${name} is not a command`);
}

function readCopy(cursor: Cursor, tag: string, name: 'COPY' | 'MOVE', uid: boolean, options: ParseOptions): Command {
  cursor.space();
  const set = readSequenceSet(cursor);
  cursor.space();
  const mailbox = readMailbox(cursor, options);
  cursor.end();
  return { tag, name, uid, set, mailbox };
}

function readOneMailbox(cursor: Cursor, options: ParseOptions): string {
  cursor.space();
  const mailbox = readMailbox(cursor, options);
  cursor.end();
  return mailbox;
}

function readCommand(cursor: Cursor, tag: string, options: ParseOptions): Command {
  cursor.space();
  const name = cursor.atom('command name').toUpperCase();
  if (simpleCommands.has(name)) {
    cursor.end();
    return { tag, name: name as SimpleCommandName };
  }
  switch (name) {
    case 'AUTHENTICATE':
      return readAuthenticate(cursor, tag);
    case 'LOGIN': {
      cursor.space();
      const username = cursor.astring('user name');
      cursor.space();
      const password = cursor.astring('password');
      cursor.end();
      return { tag, name: 'LOGIN', username, password };
    }
    case 'ENABLE': {
      // RFC 5161 §3.1: ENABLE 1*(SP capability)
      const capabilities: string[] = [];
      do {
        cursor.space();
        capabilities.push(cursor.atom('capability').toUpperCase());
        if (capabilities.length > 100) throw syntaxError('too many capabilities');
      } while (!cursor.atEnd());
      return { tag, name: 'ENABLE', capabilities };
    }
    case 'SELECT':
    case 'EXAMINE':
      return readSelect(cursor, tag, name, options);
    case 'CREATE':
      return readCreate(cursor, tag, options);
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      return { tag, name, mailbox: readOneMailbox(cursor, options) };
    case 'RENAME': {
      cursor.space();
      const from = readMailbox(cursor, options);
      cursor.space();
      const to = readMailbox(cursor, options);
      cursor.end();
      return { tag, name: 'RENAME', from, to };
    }
    case 'LIST':
      return readList(cursor, tag, options);
    case 'LSUB':
      return readLsub(cursor, tag, options);
    case 'STATUS':
      return readStatus(cursor, tag, options);
    case 'APPEND':
      return readAppend(cursor, tag, options);
    case 'SEARCH':
      return { tag, name: 'SEARCH', uid: false, query: readSearchQuery(cursor, options) };
    case 'FETCH':
      return readFetch(cursor, tag, false);
    case 'STORE':
      return readStore(cursor, tag, false);
    case 'COPY':
    case 'MOVE':
      return readCopy(cursor, tag, name, false, options);
    case 'UID':
      return readUidCommand(cursor, tag, options);
    case 'ID':
      return readId(cursor, tag);
    case 'SORT':
      return readSort(cursor, tag, false, options);
    case 'THREAD':
      return readThread(cursor, tag, false, options);
    case 'GETQUOTA': {
      cursor.space();
      const root = cursor.astring('quota root');
      cursor.end();
      return { tag, name: 'GETQUOTA', root };
    }
    case 'GETQUOTAROOT':
      return { tag, name: 'GETQUOTAROOT', mailbox: readOneMailbox(cursor, options) };
    case 'COMPRESS': {
      cursor.space();
      const algorithm = cursor.atom('compression algorithm').toUpperCase();
      cursor.end();
      return { tag, name: 'COMPRESS', algorithm };
    }
  }
  throw new ParseError('unknown-command', `unknown command ${name.slice(0, 40)}`);
}

export function parseCommand(frame: CommandFrame, options: ParseOptions = {}): ParseResult {
  const cursor = new Cursor(frame);
  let tag: string | null = null;
  try {
    tag = readTag(cursor);
    return { ok: true, command: readCommand(cursor, tag, options) };
  } catch (caught) {
    const error =
      caught instanceof ParseError
        ? caught
        : new ParseError('internal', `command could not be parsed (${caught instanceof Error ? caught.name : 'unknown error'})`);
    error.tag = tag;
    return { ok: false, error };
  }
}

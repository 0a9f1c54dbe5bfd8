// Generated valid commands parse back into the structure they were written from:
// sequence sets, every SEARCH key nested at random, FETCH items with sections and
// partials, STORE, with strings sent as atoms, quoted strings or literals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FetchItem, NumberRanges, SearchKey, SequenceSet } from '../../src/imap/parser/index.js';
import { parseOk } from './parse-text.js';

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const seqNumber = fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.constant(Infinity));
const ranges: fc.Arbitrary<NumberRanges> = fc.array(fc.tuple(seqNumber, seqNumber), { minLength: 1, maxLength: 5 }).map((list) => list.map(([a, b]) => [a, b] as [number, number]));
const sequenceSet: fc.Arbitrary<SequenceSet> = fc.oneof({ weight: 5, arbitrary: ranges }, { weight: 1, arbitrary: fc.constant('$' as const) });

function writeNumber(value: number): string {
  return value === Infinity ? '*' : String(value);
}

function writeSet(set: SequenceSet): string {
  if (set === '$') return '$';
  // A single number is written as such; a range always with ":" (both parse the same).
  return set.map(([from, to]) => (from === to ? writeNumber(from) : `${writeNumber(from)}:${writeNumber(to)}`)).join(',');
}

// Strings: printable ASCII plus some UTF-8, written as an atom when possible, else quoted or as a literal.
const text = fc.array(fc.constantFrom(...'aZ09 -_."\\()*%]{}$&\u00e9\u65e5'.split('')), { maxLength: 12 }).map((characters) => characters.join(''));
const stringForm = fc.constantFrom('atom', 'quoted', 'literal');

function writeString(value: string, form: string): string {
  if (form === 'atom' && /^[!#$&'+,\-./0-9:;<=>?@A-Z[^_`a-z|}~\]]+$/.test(value)) return value;
  if (form === 'literal' || /[^\x20-\x7e]/.test(value)) return `{${Buffer.byteLength(value)}+}\r\n${value}`;
  return `"${value.replace(/[\\"]/g, (character) => '\\' + character)}"`;
}

const atomText = fc.stringMatching(/^[A-Za-z0-9$_-]{1,10}$/);
const objectId = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
const date = fc
  .tuple(fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([year, month, day]) => ({ year, month, day }));

type Written = { key: SearchKey; text: string };

const leaf: fc.Arbitrary<Written> = fc.oneof(
  fc.constantFrom('ALL', 'ANSWERED', 'DELETED', 'DRAFT', 'FLAGGED', 'NEW', 'OLD', 'RECENT', 'SEEN', 'UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNSEEN').map((key): Written => ({ key: { key } as SearchKey, text: key })),
  fc.tuple(fc.constantFrom('BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO'), text, stringForm).map(([key, value, form]): Written => ({ key: { key, value } as SearchKey, text: `${key} ${writeString(value, form)}` })),
  fc.tuple(fc.constantFrom('BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE', 'SAVEDBEFORE', 'SAVEDON', 'SAVEDSINCE'), date, fc.boolean()).map(([key, day, quoted]): Written => {
    const written = `${day.day}-${months[day.month - 1]}-${day.year}`;
    return { key: { key, date: day } as SearchKey, text: `${key} ${quoted ? `"${written}"` : written}` };
  }),
  fc.tuple(fc.constantFrom('KEYWORD', 'UNKEYWORD'), atomText).map(([key, flag]): Written => ({ key: { key, flag } as SearchKey, text: `${key} ${flag}` })),
  fc.tuple(atomText, text, stringForm).map(([field, value, form]): Written => ({ key: { key: 'HEADER', field, value }, text: `HEADER ${field} ${writeString(value, form)}` })),
  fc.tuple(fc.constantFrom('LARGER', 'SMALLER'), fc.maxSafeNat()).map(([key, size]): Written => ({ key: { key, size } as SearchKey, text: `${key} ${size}` })),
  fc.tuple(fc.constantFrom('OLDER', 'YOUNGER'), fc.integer({ min: 1, max: 0xffffffff })).map(([key, seconds]): Written => ({ key: { key, seconds } as SearchKey, text: `${key} ${seconds}` })),
  sequenceSet.map((set): Written => ({ key: { key: 'UID', set }, text: `UID ${writeSet(set)}` })),
  sequenceSet.map((set): Written => ({ key: { key: 'SEQUENCE', set }, text: writeSet(set) })),
  fc.maxSafeNat().map((modseq): Written => ({ key: { key: 'MODSEQ', modseq, entry: null }, text: `MODSEQ ${modseq}` })),
  fc.tuple(fc.constantFrom('EMAILID', 'THREADID'), objectId).map(([key, id]): Written => ({ key: { key, id } as SearchKey, text: `${key} ${id}` })),
);

const searchKey: fc.Arbitrary<Written> = fc.letrec<{ key: Written }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('key').map((operand): Written => ({ key: { key: 'NOT', operand: operand.key }, text: `NOT ${operand.text}` })),
    fc.tuple(tie('key'), tie('key')).map(([left, right]): Written => ({ key: { key: 'OR', left: left.key, right: right.key }, text: `OR ${left.text} ${right.text}` })),
    fc.array(tie('key'), { minLength: 1, maxLength: 3 }).map((operands): Written => ({ key: { key: 'AND', operands: operands.map((operand) => operand.key) }, text: `(${operands.map((operand) => operand.text).join(' ')})` })),
  ),
})).key;

function depth(key: SearchKey): number {
  if (key.key === 'NOT') return 1 + depth(key.operand);
  if (key.key === 'OR') return 1 + Math.max(depth(key.left), depth(key.right));
  if (key.key === 'AND') return 1 + Math.max(...key.operands.map(depth));
  return 1;
}

test('SEARCH: generated criteria parse back to the same keys', () => {
  fc.assert(
    fc.property(fc.array(searchKey, { minLength: 1, maxLength: 4 }), fc.boolean(), (keys, uid) => {
      fc.pre(keys.every((written) => depth(written.key) <= 30));
      const command = parseOk(`t ${uid ? 'UID ' : ''}SEARCH ${keys.map((written) => written.text).join(' ')}\r\n`, { utf8: true });
      assert.ok(command.name === 'SEARCH');
      if (command.name !== 'SEARCH') return;
      assert.equal(command.uid, uid);
      assert.deepEqual(command.query.keys, keys.map((written) => written.key));
    }),
    { numRuns: 3000, seed: 3 },
  );
});

type WrittenItem = { item: FetchItem; text: string };

const part = fc.array(fc.integer({ min: 1, max: 9999 }), { maxLength: 4 });
const partial = fc.option(
  fc.tuple(fc.maxSafeNat(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })).map(([offset, length]) => ({ offset, length })),
  { nil: null },
);
const fieldName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);

function writePartial(value: { offset: number; length: number } | null): string {
  return value ? `<${value.offset}.${value.length}>` : '';
}

const sectionText = fc.oneof(
  fc.constant(null),
  fc.constantFrom({ kind: 'HEADER' as const }, { kind: 'TEXT' as const }, { kind: 'MIME' as const }),
  fc.tuple(fc.constantFrom('HEADER.FIELDS' as const, 'HEADER.FIELDS.NOT' as const), fc.array(fieldName, { minLength: 1, maxLength: 4 })).map(([kind, fields]) => ({ kind, fields })),
);

const fetchItem: fc.Arbitrary<WrittenItem> = fc.oneof(
  fc.constantFrom('ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'EMAILID', 'THREADID', 'SAVEDATE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT').map(
    (item): WrittenItem => ({ item: { item } as FetchItem, text: item }),
  ),
  fc.tuple(part, sectionText, partial, fc.boolean()).map(([numbers, textPart, range, peek]): WrittenItem => {
    // MIME needs a part number.
    const textValue = textPart?.kind === 'MIME' && numbers.length === 0 ? null : textPart;
    const spec = [numbers.join('.'), textValue ? textValue.kind + ('fields' in textValue ? ` (${textValue.fields.join(' ')})` : '') : ''].filter((piece) => piece !== '').join('.');
    return {
      item: { item: 'BODY[]', section: { part: numbers, text: textValue }, partial: range, peek },
      text: `${peek ? 'BODY.PEEK' : 'BODY'}[${spec}]${writePartial(range)}`,
    };
  }),
  fc.tuple(part, partial, fc.boolean()).map(([numbers, range, peek]): WrittenItem => ({
    item: { item: 'BINARY[]', part: numbers, partial: range, peek },
    text: `${peek ? 'BINARY.PEEK' : 'BINARY'}[${numbers.join('.')}]${writePartial(range)}`,
  })),
  part.map((numbers): WrittenItem => ({ item: { item: 'BINARY.SIZE', part: numbers }, text: `BINARY.SIZE[${numbers.join('.')}]` })),
);

test('FETCH: generated items parse back to the same items', () => {
  fc.assert(
    fc.property(sequenceSet, fc.array(fetchItem, { minLength: 1, maxLength: 6 }), fc.option(fc.maxSafeNat(), { nil: null }), fc.boolean(), (set, items, changedSince, bare) => {
      const list = items.length === 1 && bare ? items[0]!.text : `(${items.map((written) => written.text).join(' ')})`;
      const modifiers = changedSince === null ? '' : ` (CHANGEDSINCE ${changedSince})`;
      const command = parseOk(`t FETCH ${writeSet(set)} ${list}${modifiers}\r\n`);
      assert.deepEqual(command, {
        tag: 't', name: 'FETCH', uid: false, set, items: items.map((written) => written.item), macro: null, modifiers: { changedSince, vanished: false },
      });
    }),
    { numRuns: 3000, seed: 4 },
  );
});

test('STORE: generated flag changes parse back', () => {
  const flag = fc.oneof(fc.constantFrom('\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'), atomText);
  fc.assert(
    fc.property(sequenceSet, fc.constantFrom('', '+', '-'), fc.boolean(), fc.array(flag, { maxLength: 5 }), fc.option(fc.maxSafeNat(), { nil: null }), (set, sign, silent, flags, unchangedSince) => {
      const modifier = unchangedSince === null ? '' : ` (UNCHANGEDSINCE ${unchangedSince})`;
      const command = parseOk(`t UID STORE ${writeSet(set)}${modifier} ${sign}FLAGS${silent ? '.SILENT' : ''} (${flags.join(' ')})\r\n`);
      assert.deepEqual(command, { tag: 't', name: 'STORE', uid: true, set, mode: sign === '+' ? 'add' : sign === '-' ? 'remove' : 'replace', silent, flags, unchangedSince });
    }),
    { numRuns: 2000, seed: 5 },
  );
});

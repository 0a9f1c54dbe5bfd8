// SEARCH (RFC 9051 §6.4.4), ESEARCH (RFC 4731), SEARCHRES (RFC 5182), CONDSTORE MODSEQ,
// and SORT / THREAD (RFC 5256), which share the criteria.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SearchKey } from '../../src/imap/parser/index.js';
import { parseFails, parseOk } from './parse-text.js';

function keys(criteria: string, options = {}): SearchKey[] {
  const command = parseOk(`a SEARCH ${criteria}\r\n`, options);
  assert.equal(command.name, 'SEARCH');
  return command.name === 'SEARCH' ? command.query.keys : [];
}

test('every key without an argument', () => {
  const names = ['ALL', 'ANSWERED', 'DELETED', 'DRAFT', 'FLAGGED', 'NEW', 'OLD', 'RECENT', 'SEEN', 'UNANSWERED', 'UNDELETED', 'UNDRAFT', 'UNFLAGGED', 'UNSEEN', 'SAVEDATESUPPORTED'];
  assert.deepEqual(keys(names.map((name) => name.toLowerCase()).join(' ')), names.map((key) => ({ key })));
});

test('string, date, number, flag and header keys', () => {
  assert.deepEqual(keys('BCC a CC "b c" FROM {3}\r\nx y SUBJECT "\\"q\\"" TEXT t TO ]x BODY "caf\u00e9"'), [
    { key: 'BCC', value: 'a' },
    { key: 'CC', value: 'b c' },
    { key: 'FROM', value: 'x y' },
    { key: 'SUBJECT', value: '"q"' },
    { key: 'TEXT', value: 't' },
    { key: 'TO', value: ']x' },
    { key: 'BODY', value: 'caf\u00e9' },
  ]);
  assert.deepEqual(keys('BEFORE 1-Feb-1994 ON "01-feb-1994" SINCE 29-Feb-2024 SENTBEFORE 1-Jan-2000 SENTON 31-Dec-1999 SENTSINCE 1-Mar-2000'), [
    { key: 'BEFORE', date: { year: 1994, month: 2, day: 1 } },
    { key: 'ON', date: { year: 1994, month: 2, day: 1 } },
    { key: 'SINCE', date: { year: 2024, month: 2, day: 29 } },
    { key: 'SENTBEFORE', date: { year: 2000, month: 1, day: 1 } },
    { key: 'SENTON', date: { year: 1999, month: 12, day: 31 } },
    { key: 'SENTSINCE', date: { year: 2000, month: 3, day: 1 } },
  ]);
  assert.deepEqual(keys('SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 SAVEDSINCE 3-Jan-2020').map((key) => key.key), ['SAVEDBEFORE', 'SAVEDON', 'SAVEDSINCE']);
  assert.deepEqual(keys('LARGER 1000 SMALLER 0 OLDER 60 YOUNGER 3600 KEYWORD $Junk UNKEYWORD Work HEADER X-Spam "yes" HEADER Message-ID ""'), [
    { key: 'LARGER', size: 1000 },
    { key: 'SMALLER', size: 0 },
    { key: 'OLDER', seconds: 60 },
    { key: 'YOUNGER', seconds: 3600 },
    { key: 'KEYWORD', flag: '$Junk' },
    { key: 'UNKEYWORD', flag: 'Work' },
    { key: 'HEADER', field: 'X-Spam', value: 'yes' },
    { key: 'HEADER', field: 'Message-ID', value: '' },
  ]);
  assert.deepEqual(keys('EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9'), [
    { key: 'EMAILID', id: 'M6d99ac3275bb4e' },
    { key: 'THREADID', id: 'T64b478a75b7ea9' },
  ]);
  for (const bad of ['BEFORE 30-Feb-2024', 'ON 1-Foo-2024', 'ON 1-Feb-24', 'ON 123-Feb-2024', 'SINCE', 'FROM', 'LARGER x', 'LARGER -1', 'KEYWORD \\Seen', 'OLDER 0', 'HEADER X', 'EMAILID a.b', 'FROM "unterminated', 'NOSUCHKEY', 'ALL  SEEN', 'ALL ', '']) {
    parseFails(`a SEARCH ${bad}\r\n`);
  }
});

test('sequence sets, UID sets and $ (SEARCHRES)', () => {
  assert.deepEqual(keys('1:5,* UID 100:* $ UID $'), [
    { key: 'SEQUENCE', set: [[1, 5], [Infinity, Infinity]] },
    { key: 'UID', set: [[100, Infinity]] },
    { key: 'SEQUENCE', set: '$' },
    { key: 'UID', set: '$' },
  ]);
});

test('OR, NOT and parentheses nest; the depth is limited', () => {
  assert.deepEqual(keys('OR (SEEN FLAGGED) NOT OR FROM a TO b'), [
    {
      key: 'OR',
      left: { key: 'AND', operands: [{ key: 'SEEN' }, { key: 'FLAGGED' }] },
      right: { key: 'NOT', operand: { key: 'OR', left: { key: 'FROM', value: 'a' }, right: { key: 'TO', value: 'b' } } },
    },
  ]);
  assert.equal(keys('((((ALL))))').length, 1);
  const deep = parseFails(`a SEARCH ${'('.repeat(40)}ALL${')'.repeat(40)}\r\n`);
  assert.equal(deep.reason, 'too-deep');
  assert.equal(deep.tag, 'a');
  parseFails(`a SEARCH ${'NOT '.repeat(40)}ALL\r\n`);
  parseFails(`a SEARCH ${'OR ALL '.repeat(40)}ALL\r\n`);
  assert.equal(keys(`${'NOT '.repeat(10)}ALL`, { searchDepth: 11 }).length, 1);
  // A hostile depth far beyond the limit is still just a BAD.
  parseFails(`a SEARCH ${'('.repeat(30000)}\r\n`);
  parseFails(`a SEARCH ${'NOT '.repeat(15000)}ALL\r\n`);
  parseFails('a SEARCH ()\r\n');
  parseFails('a SEARCH (ALL\r\n');
  parseFails('a SEARCH OR ALL\r\n');
});

test('CHARSET and RETURN options', () => {
  const command = parseOk('a UID SEARCH RETURN (MIN MAX COUNT ALL SAVE) CHARSET utf-8 SUBJECT x\r\n');
  assert.ok(command.name === 'SEARCH');
  if (command.name !== 'SEARCH') return;
  assert.equal(command.uid, true);
  assert.deepEqual(command.query, { charset: 'UTF-8', returnOptions: ['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE'], keys: [{ key: 'SUBJECT', value: 'x' }] });
  const empty = parseOk('a SEARCH RETURN () ALL\r\n');
  assert.deepEqual(empty.name === 'SEARCH' && empty.query.returnOptions, []);
  const plain = parseOk('a SEARCH CHARSET "US-ASCII" ALL\r\n');
  assert.deepEqual(plain.name === 'SEARCH' && plain.query, { charset: 'US-ASCII', returnOptions: null, keys: [{ key: 'ALL' }] });
  const charset = parseFails('a SEARCH CHARSET KOI8-R ALL\r\n');
  assert.equal(charset.status, 'NO');
  assert.match(charset.responseCode ?? '', /^BADCHARSET/);
  parseFails('a SEARCH RETURN (FOO) ALL\r\n');
  parseFails('a SEARCH CHARSET UTF-8 RETURN (MIN) ALL\r\n');
  parseFails('a SEARCH RETURN MIN ALL\r\n');
  parseFails(Buffer.from('a SEARCH FROM "\xff"\r\n', 'latin1'));
});

test('MODSEQ with and without an entry (RFC 7162 §3.1.5)', () => {
  assert.deepEqual(keys('MODSEQ 0 MODSEQ "/flags/\\\\draft" all 620162338'), [
    { key: 'MODSEQ', modseq: 0, entry: null },
    { key: 'MODSEQ', modseq: 620162338, entry: { name: '/flags/\\draft', type: 'all' } },
  ]);
  parseFails('a SEARCH MODSEQ "/flags/x" other 5\r\n');
  parseFails('a SEARCH MODSEQ\r\n');
});

test('SORT with criteria, charset and ESORT RETURN (RFC 5256, RFC 5267)', () => {
  assert.deepEqual(parseOk('a UID SORT (REVERSE ARRIVAL subject DISPLAYFROM) UTF-8 SINCE 1-Feb-1994 UNSEEN\r\n'), {
    tag: 'a',
    name: 'SORT',
    uid: true,
    criteria: [
      { key: 'ARRIVAL', reverse: true },
      { key: 'SUBJECT', reverse: false },
      { key: 'DISPLAYFROM', reverse: false },
    ],
    returnOptions: null,
    query: { charset: 'UTF-8', returnOptions: null, keys: [{ key: 'SINCE', date: { year: 1994, month: 2, day: 1 } }, { key: 'UNSEEN' }] },
  });
  const esort = parseOk('a SORT RETURN (MIN COUNT) (DATE) US-ASCII ALL\r\n');
  assert.deepEqual(esort.name === 'SORT' && esort.returnOptions, ['MIN', 'COUNT']);
  for (const bad of ['(DATE) ALL', '() UTF-8 ALL', '(REVERSE) UTF-8 ALL', '(FOO) UTF-8 ALL', '(DATE) UTF-8', 'DATE UTF-8 ALL']) parseFails(`a SORT ${bad}\r\n`);
});

test('THREAD (RFC 5256)', () => {
  assert.deepEqual(parseOk('a THREAD references UTF-8 ALL\r\n'), {
    tag: 'a', name: 'THREAD', uid: false, algorithm: 'REFERENCES', query: { charset: 'UTF-8', returnOptions: null, keys: [{ key: 'ALL' }] },
  });
  const ordered = parseOk('a UID THREAD ORDEREDSUBJECT US-ASCII SUBJECT x\r\n');
  assert.ok(ordered.name === 'THREAD' && ordered.uid && ordered.algorithm === 'ORDEREDSUBJECT');
  parseFails('a THREAD REFERENCES\r\n');
  parseFails('a THREAD REFERENCES UTF-8\r\n');
});

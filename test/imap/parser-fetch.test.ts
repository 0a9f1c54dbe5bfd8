// FETCH and STORE grammar (RFC 9051 §6.4.5-6, RFC 7162, RFC 3516, RFC 8474).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFails, parseOk } from './parse-text.js';

function fetch(text: string) {
  const command = parseOk(text);
  assert.equal(command.name, 'FETCH');
  return command as Extract<typeof command, { name: 'FETCH' }>;
}

test('sequence sets: numbers, ranges, *, $ and reversed ranges as sent', () => {
  assert.deepEqual(fetch('a FETCH 1,3:5,7:*,*:2,* FLAGS\r\n').set, [[1, 1], [3, 5], [7, Infinity], [Infinity, 2], [Infinity, Infinity]]);
  assert.equal(fetch('a FETCH $ FLAGS\r\n').set, '$');
  for (const bad of ['0', '1:0', '1,', ',1', '1::2', '4294967296', '$,1', '-1', '1:*:2']) parseFails(`a FETCH ${bad} FLAGS\r\n`);
  assert.deepEqual(fetch('a FETCH 4294967295 FLAGS\r\n').set, [[4294967295, 4294967295]]);
});

test('macros expand and are reported', () => {
  const all = fetch('a FETCH 1 ALL\r\n');
  assert.equal(all.macro, 'ALL');
  assert.deepEqual(all.items.map((item) => item.item), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  assert.deepEqual(fetch('a FETCH 1 fast\r\n').items.map((item) => item.item), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(fetch('a FETCH 1 FULL\r\n').items.map((item) => item.item), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  // A macro cannot go inside the parenthesised list.
  parseFails('a FETCH 1 (ALL)\r\n');
});

test('every simple item, alone and in a list', () => {
  const names = ['ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'EMAILID', 'THREADID', 'SAVEDATE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'];
  for (const name of names) assert.deepEqual(fetch(`a FETCH 1 ${name.toLowerCase()}\r\n`).items, [{ item: name }]);
  assert.deepEqual(fetch(`a FETCH 1:* (${names.join(' ')})\r\n`).items.map((item) => item.item), names);
  parseFails('a FETCH 1 ()\r\n');
  parseFails('a FETCH 1 (FLAGS\r\n');
  parseFails('a FETCH 1 (FLAGS  UID)\r\n');
  parseFails('a FETCH 1 FLAGS UID\r\n');
  parseFails('a FETCH 1 BODY.PEEK\r\n');
  parseFails('a FETCH 1 NOSUCHITEM\r\n');
});

test('BODY[section]<partial> and BODY.PEEK', () => {
  assert.deepEqual(fetch('a FETCH 1 BODY[]\r\n').items, [{ item: 'BODY[]', section: { part: [], text: null }, partial: null, peek: false }]);
  assert.deepEqual(fetch('a FETCH 1 BODY.PEEK[]<0.1024>\r\n').items, [{ item: 'BODY[]', section: { part: [], text: null }, partial: { offset: 0, length: 1024 }, peek: true }]);
  assert.deepEqual(fetch('a FETCH 1 body[1.2.3]\r\n').items[0], { item: 'BODY[]', section: { part: [1, 2, 3], text: null }, partial: null, peek: false });
  assert.deepEqual(fetch('a FETCH 1 BODY[HEADER]\r\n').items[0], { item: 'BODY[]', section: { part: [], text: { kind: 'HEADER' } }, partial: null, peek: false });
  assert.deepEqual(fetch('a FETCH 1 BODY[TEXT]\r\n').items[0], { item: 'BODY[]', section: { part: [], text: { kind: 'TEXT' } }, partial: null, peek: false });
  assert.deepEqual(fetch('a FETCH 1 BODY[4.2.MIME]\r\n').items[0], { item: 'BODY[]', section: { part: [4, 2], text: { kind: 'MIME' } }, partial: null, peek: false });
  assert.deepEqual(fetch('a FETCH 1 BODY[3.header]\r\n').items[0], { item: 'BODY[]', section: { part: [3], text: { kind: 'HEADER' } }, partial: null, peek: false });
  assert.deepEqual(fetch('a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From "To" {7}\r\nSubject)]<10.20>)\r\n').items[0], {
    item: 'BODY[]',
    section: { part: [], text: { kind: 'HEADER.FIELDS', fields: ['From', 'To', 'Subject'] } },
    partial: { offset: 10, length: 20 },
    peek: true,
  });
  assert.deepEqual(fetch('a FETCH 1 BODY[1.HEADER.FIELDS.NOT (Received)]\r\n').items[0], {
    item: 'BODY[]',
    section: { part: [1], text: { kind: 'HEADER.FIELDS.NOT', fields: ['Received'] } },
    partial: null,
    peek: false,
  });
  for (const bad of ['BODY[MIME]', 'BODY[0]', 'BODY[1.]', 'BODY[1..2]', 'BODY[HEADER.FIELDS]', 'BODY[HEADER.FIELDS ()]', 'BODY[]<1.0>', 'BODY[]<1>', 'BODY[]<.5>', 'BODY[', 'BODY[] <0.1>', 'BODY[FOO]', 'BODY[TEXT.MIME]']) {
    parseFails(`a FETCH 1 ${bad}\r\n`);
  }
});

test('BINARY[], BINARY.PEEK, BINARY.SIZE (RFC 3516, RFC 9051 §6.4.5)', () => {
  assert.deepEqual(fetch('a FETCH 1 (BINARY[] BINARY.PEEK[1.2]<0.5> BINARY.SIZE[3])\r\n').items, [
    { item: 'BINARY[]', part: [], partial: null, peek: false },
    { item: 'BINARY[]', part: [1, 2], partial: { offset: 0, length: 5 }, peek: true },
    { item: 'BINARY.SIZE', part: [3] },
  ]);
  parseFails('a FETCH 1 BINARY[TEXT]\r\n');
  parseFails('a FETCH 1 BINARY.SIZE[1]<0.5>\r\n');
  parseFails('a FETCH 1 BINARY\r\n');
});

test('CHANGEDSINCE and VANISHED (RFC 7162)', () => {
  assert.deepEqual(fetch('a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n').modifiers, { changedSince: 12345, vanished: false });
  const uid = parseOk('a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n');
  assert.equal(uid.name === 'FETCH' && uid.uid, true);
  assert.deepEqual(uid.name === 'FETCH' && uid.modifiers, { changedSince: 12345, vanished: true });
  parseFails('a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)\r\n');
  parseFails('a UID FETCH 1 FLAGS (VANISHED)\r\n');
  parseFails('a FETCH 1 FLAGS (CHANGEDSINCE)\r\n');
  parseFails('a FETCH 1 FLAGS (FOO 1)\r\n');
  // Up to 2^63-1 on the wire, saturated to 2^53-1.
  assert.equal(fetch('a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775807)\r\n').modifiers.changedSince, Number.MAX_SAFE_INTEGER);
  parseFails('a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)\r\n');
});

test('STORE: replace, add, remove, .SILENT, flags with or without parentheses, UNCHANGEDSINCE', () => {
  assert.deepEqual(parseOk('a STORE 1:3 FLAGS (\\seen \\DELETED $Label1)\r\n'), {
    tag: 'a', name: 'STORE', uid: false, set: [[1, 3]], mode: 'replace', silent: false, flags: ['\\Seen', '\\Deleted', '$Label1'], unchangedSince: null,
  });
  assert.deepEqual(parseOk('a UID STORE 5 +FLAGS.SILENT \\Answered \\Flagged\r\n'), {
    tag: 'a', name: 'STORE', uid: true, set: [[5, 5]], mode: 'add', silent: true, flags: ['\\Answered', '\\Flagged'], unchangedSince: null,
  });
  assert.deepEqual(parseOk('a STORE $ (UNCHANGEDSINCE 320162338) -flags ()\r\n'), {
    tag: 'a', name: 'STORE', uid: false, set: '$', mode: 'remove', silent: false, flags: [], unchangedSince: 320162338,
  });
  for (const bad of ['1 FLAGS', '1 FLAGS \\Recent', '1 FLAGS \\Foo', '1 FLAG (\\Seen)', '1 *FLAGS (\\Seen)', '1 +FLAGS.LOUD (x)', '1 FLAGS (\\Seen', '1 (UNCHANGEDSINCE) FLAGS x', '1 (FOO 1) FLAGS x', '1 FLAGS (a b) c', '1 FLAGS \\*']) {
    parseFails(`a STORE ${bad}\r\n`);
  }
});

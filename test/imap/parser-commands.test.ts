// Every command family outside FETCH/STORE/SEARCH: tags, names, arguments, and the BADs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader, isIdleDone, parseAuthenticateResponse, parseCommand, type ReaderEvent } from '../../src/imap/parser/index.js';
import { parseFails, parseOk, readEvents } from './parse-text.js';

test('commands without arguments, in any case', () => {
  for (const name of ['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE']) {
    assert.deepEqual(parseOk(`A001 ${name}\r\n`), { tag: 'A001', name });
    assert.deepEqual(parseOk(`x.y ${name.toLowerCase()}\n`), { tag: 'x.y', name });
    const extra = parseFails(`A1 ${name} extra\r\n`);
    assert.equal(extra.tag, 'A1');
    parseFails(`A1 ${name} \r\n`);
  }
});

test('tags: any ASTRING-CHAR but "+"; a bad tag leaves the error untagged', () => {
  assert.equal(parseOk('a]b NOOP\r\n').tag, 'a]b');
  for (const bad of ['+a NOOP', 'a+ NOOP', '(a NOOP', '"a" NOOP', 'a{1} NOOP', ' NOOP', 'NOOP', '', 'a*b NOOP', 'a%b NOOP', 'a\\b NOOP']) {
    const error = parseFails(`${bad}\r\n`);
    assert.equal(error.tag, null, bad);
  }
  assert.equal(parseFails('a  NOOP\r\n').tag, 'a');
  const unknown = parseFails('t1 FROBNICATE\r\n');
  assert.equal(unknown.reason, 'unknown-command');
  assert.equal(unknown.tag, 't1');
});

test('LOGIN with atoms, quoted strings and literals', () => {
  assert.deepEqual(parseOk('a LOGIN alice "p a\\"ss\\\\"\r\n'), { tag: 'a', name: 'LOGIN', username: 'alice', password: 'p a"ss\\' });
  assert.deepEqual(parseOk('a login "" {3+}\r\n\u00e9x\r\n'), { tag: 'a', name: 'LOGIN', username: '', password: '\u00e9x' });
  for (const bad of ['a LOGIN alice', 'a LOGIN alice pass extra', 'a LOGIN "alice pass', 'a LOGIN "a\\x" b', 'a LOGIN (alice) b', 'a LOGIN alice%x pass']) parseFails(`${bad}\r\n`);
  parseFails(Buffer.from('a LOGIN {3}\r\na\x00b x\r\n'));
});

test('AUTHENTICATE with and without SASL-IR; the responses that follow', () => {
  assert.deepEqual(parseOk('a AUTHENTICATE plain\r\n'), { tag: 'a', name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: null });
  const withInitial = parseOk('a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n');
  assert.ok(withInitial.name === 'AUTHENTICATE' && withInitial.initialResponse?.toString('latin1') === '\0alice\0secret');
  const empty = parseOk('a AUTHENTICATE EXTERNAL =\r\n');
  assert.ok(empty.name === 'AUTHENTICATE' && empty.initialResponse?.length === 0);
  parseFails('a AUTHENTICATE PLAIN AGFsaWNl=AHNl\r\n');
  parseFails('a AUTHENTICATE PLAIN abc\r\n');
  parseFails('a AUTHENTICATE\r\n');
  const [line, cancel, bad, emptyLine] = readEvents('AGFsaWNlAHNlY3JldA==\r\n*\r\n!!\r\n\r\n').map((event) => (event as Extract<ReaderEvent, { type: 'command' }>).frame);
  assert.deepEqual(parseAuthenticateResponse(line!), { cancel: false, data: Buffer.from('\0alice\0secret', 'latin1') });
  assert.deepEqual(parseAuthenticateResponse(cancel!), { cancel: true });
  assert.equal(parseAuthenticateResponse(bad!) instanceof Error, true);
  assert.deepEqual(parseAuthenticateResponse(emptyLine!), { cancel: false, data: Buffer.alloc(0) });
});

test('IDLE and DONE', () => {
  const frames = readEvents('a IDLE\r\ndone\r\nDONE x\r\n').map((event) => (event as Extract<ReaderEvent, { type: 'command' }>).frame);
  assert.deepEqual(parseCommand(frames[0]!), { ok: true, command: { tag: 'a', name: 'IDLE' } });
  assert.equal(isIdleDone(frames[1]!), true);
  assert.equal(isIdleDone(frames[2]!), false);
});

test('ENABLE and COMPRESS', () => {
  assert.deepEqual(parseOk('a ENABLE condstore qresync UTF8=ACCEPT IMAP4rev2\r\n'), { tag: 'a', name: 'ENABLE', capabilities: ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2'] });
  parseFails('a ENABLE\r\n');
  parseFails('a ENABLE "x"\r\n');
  assert.deepEqual(parseOk('a COMPRESS deflate\r\n'), { tag: 'a', name: 'COMPRESS', algorithm: 'DEFLATE' });
  parseFails('a COMPRESS\r\n');
});

test('mailbox names: INBOX in any case, modified UTF-7, UTF-8 when enabled', () => {
  assert.deepEqual(parseOk('a SELECT inBox\r\n'), { tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: false, qresync: null });
  assert.deepEqual(parseOk('a DELETE "Entw&APw-rfe/&ZeVnLIqe-"\r\n'), { tag: 'a', name: 'DELETE', mailbox: 'Entw\u00fcrfe/\u65e5\u672c\u8a9e' });
  assert.deepEqual(parseOk('a SUBSCRIBE A&-B\r\n'), { tag: 'a', name: 'SUBSCRIBE', mailbox: 'A&B' });
  assert.equal(parseFails('a DELETE "&Jjo!"\r\n').reason, 'mailbox-name');
  assert.equal(parseFails('a DELETE "Entw\u00fcrfe"\r\n').reason, 'mailbox-name');
  // With UTF8=ACCEPT or IMAP4rev2 the name is taken as UTF-8 and "&" is just a character.
  const utf8 = { utf8: true };
  assert.deepEqual(parseOk('a UNSUBSCRIBE "Entw\u00fcrfe&APw-"\r\n', utf8), { tag: 'a', name: 'UNSUBSCRIBE', mailbox: 'Entw\u00fcrfe&APw-' });
  parseFails(Buffer.from('a DELETE "\xc3"\r\n', 'latin1'), utf8);
  assert.deepEqual(parseOk('a RENAME {3+}\r\nold "new/one"\r\n'), { tag: 'a', name: 'RENAME', from: 'old', to: 'new/one' });
  parseFails('a RENAME old\r\n');
  parseFails('a DELETE\r\n');
  parseFails('a DELETE a b\r\n');
});

test('SELECT and EXAMINE with CONDSTORE and QRESYNC (RFC 7162)', () => {
  assert.deepEqual(parseOk('a EXAMINE Sent (CONDSTORE)\r\n'), { tag: 'a', name: 'EXAMINE', mailbox: 'Sent', condstore: true, qresync: null });
  assert.deepEqual(parseOk('a SELECT INBOX (QRESYNC (67890007 90060115194045000 41,43:211,214:541))\r\n'), {
    tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: false,
    qresync: { uidValidity: 67890007, modseq: 90060115194045000 > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : 0, knownUids: [[41, 41], [43, 211], [214, 541]], sequenceMatch: null },
  });
  assert.deepEqual(parseOk('a SELECT INBOX (QRESYNC (67890007 5 1:100 (1:3,5 4:6,9)) CONDSTORE)\r\n'), {
    tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: true,
    qresync: { uidValidity: 67890007, modseq: 5, knownUids: [[1, 100]], sequenceMatch: { sequences: [[1, 3], [5, 5]], uids: [[4, 6], [9, 9]] } },
  });
  assert.deepEqual(parseOk('a SELECT INBOX (QRESYNC (1 5 (1 4)))\r\n').name === 'SELECT', true);
  for (const bad of ['INBOX ()', 'INBOX (FOO)', 'INBOX (QRESYNC)', 'INBOX (QRESYNC (0 5))', 'INBOX (QRESYNC (1 0))', 'INBOX (QRESYNC (1 5 1:*))', 'INBOX (QRESYNC (1 5 1 (1)))', 'INBOX (QRESYNC (1 5) QRESYNC (1 5))', 'INBOX CONDSTORE']) {
    parseFails(`a SELECT ${bad}\r\n`);
  }
});

test('CREATE with USE (RFC 6154)', () => {
  assert.deepEqual(parseOk('a CREATE Archive/2024\r\n'), { tag: 'a', name: 'CREATE', mailbox: 'Archive/2024', specialUse: [] });
  assert.deepEqual(parseOk('a CREATE MySpecial (USE (\\drafts \\Sent \\X-Custom))\r\n'), { tag: 'a', name: 'CREATE', mailbox: 'MySpecial', specialUse: ['\\Drafts', '\\Sent', '\\X-Custom'] });
  parseFails('a CREATE x (USE)\r\n');
  parseFails('a CREATE x (USE (Drafts))\r\n');
  parseFails('a CREATE x (FOO (\\Drafts))\r\n');
});

test('LIST: basic, extended selection and return options, several patterns, LIST-STATUS', () => {
  const base = { subscribed: false, children: false, specialUse: false, status: null };
  assert.deepEqual(parseOk('a LIST "" *\r\n'), { tag: 'a', name: 'LIST', reference: '', patterns: ['*'], selectOptions: [], returnOptions: base, extended: false });
  assert.deepEqual(parseOk('a LIST "" %]x\r\n').name === 'LIST', true);
  assert.deepEqual(parseOk('a LIST ~/Mail/ {2+}\r\n%*\r\n'), { tag: 'a', name: 'LIST', reference: '~/Mail/', patterns: ['%*'], selectOptions: [], returnOptions: base, extended: false });
  assert.deepEqual(parseOk('a list (subscribed recursivematch) "" ("Entw&APw-rfe/*" INBOX) return (children special-use subscribed status (messages unseen size))\r\n'), {
    tag: 'a',
    name: 'LIST',
    reference: '',
    patterns: ['Entw\u00fcrfe/*', 'INBOX'],
    selectOptions: ['SUBSCRIBED', 'RECURSIVEMATCH'],
    returnOptions: { subscribed: true, children: true, specialUse: true, status: ['MESSAGES', 'UNSEEN', 'SIZE'] },
    extended: true,
  });
  const empty = parseOk('a LIST () "" % RETURN ()\r\n');
  assert.ok(empty.name === 'LIST' && empty.extended && empty.selectOptions.length === 0);
  for (const bad of ['"" ', '""', '(RECURSIVEMATCH) "" %', '(FOO) "" %', '"" % RETURN (FOO)', '"" % (CHILDREN)', '"" % RETURN', '"" ()', '"" % RETURN (STATUS ())', '"" % RETURN (STATUS (FOO))']) {
    parseFails(`a LIST ${bad}\r\n`);
  }
  assert.deepEqual(parseOk('a LSUB "#news." "comp.mail.*"\r\n'), { tag: 'a', name: 'LSUB', reference: '#news.', pattern: 'comp.mail.*' });
  parseFails('a LSUB ""\r\n');
});

test('STATUS with every item', () => {
  const items = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'MAILBOXID', 'APPENDLIMIT', 'DELETED-STORAGE'];
  assert.deepEqual(parseOk(`a STATUS blurdybloop (${items.join(' ').toLowerCase()})\r\n`), { tag: 'a', name: 'STATUS', mailbox: 'blurdybloop', items });
  parseFails('a STATUS x ()\r\n');
  parseFails('a STATUS x MESSAGES\r\n');
  parseFails('a STATUS x (FOO)\r\n');
  parseFails('a STATUS (MESSAGES)\r\n');
});

test('APPEND: flags, date-time, MULTIAPPEND, literal8 and UTF8', () => {
  const command = parseOk('A003 APPEND saved-messages (\\Seen $Forwarded) " 7-Feb-1994 21:52:25 -0800" {3}\r\nabc {2+}\r\nde "01-Jan-2000 00:00:00 +0000" ~{1}\r\nf UTF8 (~{1+}\r\ng)\r\n');
  assert.ok(command.name === 'APPEND');
  if (command.name !== 'APPEND') return;
  assert.equal(command.mailbox, 'saved-messages');
  assert.deepEqual(
    command.messages.map((message) => ({ ...message, date: message.date?.toISOString() ?? null, content: message.content.kind === 'buffered' ? [message.content.bytes.toString(), message.content.binary] : null })),
    [
      { flags: ['\\Seen', '$Forwarded'], date: '1994-02-08T05:52:25.000Z', utf8: false, content: ['abc', false] },
      { flags: [], date: null, utf8: false, content: ['de', false] },
      { flags: [], date: '2000-01-01T00:00:00.000Z', utf8: false, content: ['f', true] },
      { flags: [], date: null, utf8: true, content: ['g', true] },
    ],
  );
  const dates: [string, string][] = [
    ['"01-Jan-0001 00:00:00 +0000"', '0001-01-01T00:00:00.000Z'],
    ['"29-Feb-2024 23:59:60 -1200"', '2024-03-01T12:00:00.000Z'],
  ];
  for (const [text, iso] of dates) {
    const dated = parseOk(`a APPEND x ${text} {1+}\r\ny\r\n`);
    assert.equal(dated.name === 'APPEND' && dated.messages[0]!.date?.toISOString(), iso);
  }
  for (const bad of [
    'a APPEND x',
    'a APPEND x "abc"',
    'a APPEND x abc',
    'a APPEND x (\\Recent) {1+}\r\ny',
    'a APPEND x "7-Feb-1994 21:52:25 -0800" {1+}\r\ny',
    'a APPEND x "30-Feb-1994 21:52:25 -0800" {1+}\r\ny',
    'a APPEND x " 7-Feb-1994 24:00:00 -0800" {1+}\r\ny',
    'a APPEND x " 7-Feb-1994 21:52:25 0800" {1+}\r\ny',
    'a APPEND x UTF8 ({1+}\r\ny)',
    'a APPEND x UTF8 (~{1+}\r\ny',
    'a APPEND x {1+}\r\ny extra',
    'a APPEND x {1+}\r\ny  {1+}\r\nz',
    'a APPEND x (\\Seen) (\\Seen) {1+}\r\ny',
  ]) {
    parseFails(`${bad}\r\n`);
  }
  // literal8 is only for APPEND.
  parseFails('a LOGIN ~{1+}\r\nx y\r\n');
});

test('COPY, MOVE and the UID forms; UID EXPUNGE', () => {
  assert.deepEqual(parseOk('a COPY 2:4 MEETING\r\n'), { tag: 'a', name: 'COPY', uid: false, set: [[2, 4]], mailbox: 'MEETING' });
  assert.deepEqual(parseOk('a UID MOVE 42:69 "Trash"\r\n'), { tag: 'a', name: 'MOVE', uid: true, set: [[42, 69]], mailbox: 'Trash' });
  assert.deepEqual(parseOk('a uid expunge 3000:3002,*\r\n'), { tag: 'a', name: 'UID EXPUNGE', set: [[3000, 3002], [Infinity, Infinity]] });
  for (const bad of ['a COPY 1', 'a COPY x y', 'a UID', 'a UID NOOP', 'a UID EXPUNGE', 'a UID UID FETCH 1 FLAGS', 'a MOVE 1 a b']) parseFails(`${bad}\r\n`);
});

test('ID (RFC 2971)', () => {
  assert.deepEqual(parseOk('a ID ("name" "sodr" "version" "19.34" "vendor" NIL)\r\n'), { tag: 'a', name: 'ID', parameters: [['name', 'sodr'], ['version', '19.34'], ['vendor', null]] });
  assert.deepEqual(parseOk('a ID NIL\r\n'), { tag: 'a', name: 'ID', parameters: null });
  assert.deepEqual(parseOk('a ID ()\r\n'), { tag: 'a', name: 'ID', parameters: [] });
  parseFails('a ID ("name")\r\n');
  parseFails('a ID (name "x")\r\n');
  parseFails(`a ID (${'"k" "v" '.repeat(31).trim()})\r\n`);
});

test('GETQUOTA and GETQUOTAROOT (RFC 9208)', () => {
  assert.deepEqual(parseOk('a GETQUOTA ""\r\n'), { tag: 'a', name: 'GETQUOTA', root: '' });
  assert.deepEqual(parseOk('a GETQUOTAROOT inbox\r\n'), { tag: 'a', name: 'GETQUOTAROOT', mailbox: 'INBOX' });
  parseFails('a GETQUOTA\r\n');
});

test('literals where a string is expected but a streamed literal arrives', () => {
  const reader = new CommandReader({ streamThreshold: 10 });
  const events = reader.push(Buffer.from(`a APPEND {20+}\r\n${'x'.repeat(20)} {1+}\r\ny\r\n`));
  const frame = events.flatMap((event) => (event.type === 'command' ? [event.frame] : []))[0]!;
  const result = parseCommand(frame);
  assert.equal(result.ok, false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStructureParser, parseStructure, type BodyPart, type MessageStructure } from '../../src/mime/structure.js';
import { MAX_DEPTH, MAX_PARTS } from '../../src/mime/limits.js';
import { checkInvariants } from './invariants.js';

function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'));
}

function header(message: Buffer, part: BodyPart): string {
  return message.subarray(part.headerStart, part.bodyStart).toString();
}

function body(message: Buffer, part: BodyPart): string {
  return message.subarray(part.bodyStart, part.end).toString();
}

async function parse(message: Buffer): Promise<MessageStructure> {
  const structure = await parseStructure(message);
  checkInvariants(structure, message);
  // The result must not depend on how the bytes were split into chunks.
  for (const size of [1, 2, 3, 7, 64]) {
    const parser = createStructureParser();
    for (let offset = 0; offset < message.length; offset += size) await parser.write(message.subarray(offset, offset + size));
    assert.deepEqual(await parser.finish(), structure, `same structure with ${size}-byte chunks`);
  }
  return structure;
}

const multipartAlternative = crlf(
  'From: "Joe Q. Public" <john.q.public@example.com>',
  'To: Mary Smith <mary@x.test>, jdoe@example.org',
  'Subject: =?utf-8?q?Hello_w=C3=B6rld?=',
  'Date: Tue, 1 Jul 2003 10:52:37 +0200',
  'Message-ID: <1234@local.machine.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b1"',
  '',
  'This is the preamble.',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello',
  'world',
  '',
  '--b1',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<p>Hello</p>',
  '--b1--',
  'This is the epilogue.',
  '',
);

test('simple text message', async () => {
  const message = crlf('Subject: hi', 'From: a@b.test', '', 'line one', 'line two', '');
  const structure = await parse(message);
  const root = structure.root;
  assert.equal(root.type, 'text');
  assert.equal(root.subtype, 'plain');
  assert.deepEqual(root.params, [['charset', 'us-ascii']]); // RFC 2045 §5.2 default
  assert.equal(root.encoding, '7bit');
  assert.equal(header(message, root), 'Subject: hi\r\nFrom: a@b.test\r\n\r\n');
  assert.equal(body(message, root), 'line one\r\nline two\r\n');
  assert.equal(root.lines, 2);
  assert.deepEqual(
    root.headers.map((field) => [field.name, message.subarray(field.start, field.end).toString()]),
    [
      ['subject', 'Subject: hi\r\n'],
      ['from', 'From: a@b.test\r\n'],
    ],
  );
  assert.equal(structure.subject, 'hi');
  assert.deepEqual(structure.envelope.from, [{ name: null, adl: null, mailbox: 'a', host: 'b.test' }]);
  assert.deepEqual(structure.envelope.sender, structure.envelope.from);
  assert.deepEqual(structure.envelope.replyTo, structure.envelope.from);
  assert.equal(structure.envelope.to, null);
  assert.equal(structure.sentDate, null);
});

test('multipart/alternative: offsets, envelope and top-level fields', async () => {
  const message = multipartAlternative;
  const structure = await parse(message);
  const root = structure.root;
  assert.equal(root.type, 'multipart');
  assert.equal(root.subtype, 'alternative');
  assert.deepEqual(root.params, [['boundary', 'b1']]);
  assert.equal(root.children.length, 2);
  const [plain, html] = root.children;
  // RFC 3501 §6.4.5: BODY[1.MIME] is the part's header, BODY[1] its body without the CRLF before the boundary.
  assert.equal(header(message, plain), 'Content-Type: text/plain; charset=utf-8\r\n\r\n');
  assert.equal(body(message, plain), 'Hello\r\nworld\r\n');
  assert.equal(plain.lines, 2);
  assert.deepEqual(plain.params, [['charset', 'utf-8']]);
  assert.equal(header(message, html), 'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
  assert.equal(body(message, html), '<p>Hello</p>');
  assert.equal(html.lines, 1);
  assert.equal(html.encoding, 'quoted-printable');
  assert.ok(body(message, root).startsWith('This is the preamble.\r\n--b1\r\n'));
  assert.ok(body(message, root).endsWith('--b1--\r\nThis is the epilogue.\r\n'));

  assert.equal(structure.subject, 'Hello wörld');
  assert.equal(structure.envelope.subject, '=?utf-8?q?Hello_w=C3=B6rld?=');
  assert.equal(structure.envelope.date, 'Tue, 1 Jul 2003 10:52:37 +0200');
  assert.equal(structure.sentDate, Date.UTC(2003, 6, 1, 8, 52, 37));
  assert.equal(structure.messageId, '<1234@local.machine.example>');
  assert.equal(structure.envelope.messageId, '<1234@local.machine.example>');
  assert.deepEqual(structure.envelope.from, [{ name: 'Joe Q. Public', adl: null, mailbox: 'john.q.public', host: 'example.com' }]);
  assert.deepEqual(structure.envelope.to, [
    { name: 'Mary Smith', adl: null, mailbox: 'mary', host: 'x.test' },
    { name: null, adl: null, mailbox: 'jdoe', host: 'example.org' },
  ]);
});

test('multipart/mixed with a base64 attachment', async () => {
  const message = crlf(
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    '',
    'See attachment.',
    '--outer',
    'Content-Type: application/pdf; name="report.pdf"',
    'Content-Disposition: attachment;',
    ' filename="report.pdf"; size=12',
    'Content-Transfer-Encoding: BASE64',
    'Content-ID: <part1@x>',
    'Content-Description: The report',
    'Content-Language: en, de',
    'Content-Location: http://example.com/report.pdf',
    'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
    '',
    'JVBERi0xLjQK',
    'JVBERi0xLjQK',
    '--outer--',
    '',
  );
  const structure = await parse(message);
  const [text, attachment] = structure.root.children;
  assert.equal(header(message, text), '\r\n');
  assert.equal(text.type, 'text');
  assert.deepEqual(text.params, [['charset', 'us-ascii']]);
  assert.equal(body(message, text), 'See attachment.');
  assert.equal(attachment.type, 'application');
  assert.equal(attachment.subtype, 'pdf');
  assert.deepEqual(attachment.params, [['name', 'report.pdf']]);
  assert.deepEqual(attachment.disposition, { type: 'attachment', params: [['filename', 'report.pdf'], ['size', '12']] });
  assert.equal(attachment.encoding, 'base64');
  assert.equal(attachment.id, '<part1@x>');
  assert.equal(attachment.description, 'The report');
  assert.deepEqual(attachment.language, ['en', 'de']);
  assert.equal(attachment.location, 'http://example.com/report.pdf');
  assert.equal(attachment.md5, 'Q2hlY2sgSW50ZWdyaXR5IQ==');
  assert.equal(body(message, attachment), 'JVBERi0xLjQK\r\nJVBERi0xLjQK');
  const disposition = attachment.headers.find((field) => field.name === 'content-disposition')!;
  assert.equal(message.subarray(disposition.start, disposition.end).toString(), 'Content-Disposition: attachment;\r\n filename="report.pdf"; size=12\r\n');
});

test('multipart nested inside multipart', async () => {
  const message = crlf(
    'Content-Type: multipart/mixed; boundary=a',
    '',
    '--a',
    'Content-Type: multipart/alternative; boundary=ab',
    '',
    '--ab',
    'Content-Type: text/plain',
    '',
    'plain',
    '--ab',
    'Content-Type: text/html',
    '',
    '<b>html</b>',
    '--ab--',
    '',
    '--a',
    'Content-Type: image/png',
    '',
    'PNG',
    '--a--',
  );
  const structure = await parse(message);
  const [alternative, image] = structure.root.children;
  assert.equal(alternative.subtype, 'alternative');
  assert.deepEqual(
    alternative.children.map((part) => [part.subtype, body(message, part)]),
    [
      ['plain', 'plain'],
      ['html', '<b>html</b>'],
    ],
  );
  // The inner multipart's body runs to the CRLF before the outer delimiter, epilogue included.
  assert.equal(body(message, alternative), '--ab\r\nContent-Type: text/plain\r\n\r\nplain\r\n--ab\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--ab--\r\n');
  assert.equal(image.subtype, 'png');
  assert.equal(body(message, image), 'PNG');
  // No CRLF after the close delimiter: the epilogue is empty.
  assert.equal(structure.root.end, message.length);
});

test('message/rfc822 attachment containing a multipart', async () => {
  const message = crlf(
    'Subject: outer',
    'Content-Type: multipart/mixed; boundary=X',
    '',
    '--X',
    'Content-Type: text/plain',
    '',
    'Forwarded message below.',
    '--X',
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment; filename=inner.eml',
    '',
    'From: Inner Sender <inner@example.net>',
    'Subject: inner subject',
    'Message-ID: <inner@example.net>',
    'Content-Type: multipart/alternative; boundary=Y',
    '',
    '--Y',
    '',
    'inner text',
    '--Y',
    'Content-Type: text/html',
    '',
    '<i>inner</i>',
    '--Y--',
    '',
    '--X--',
    '',
  );
  const structure = await parse(message);
  const attached = structure.root.children[1];
  assert.equal(attached.type, 'message');
  assert.equal(attached.subtype, 'rfc822');
  assert.ok(attached.message);
  const inner = attached.message.root;
  assert.equal(body(message, attached), message.subarray(inner.headerStart, inner.end).toString());
  assert.ok(body(message, attached).startsWith('From: Inner Sender'));
  assert.ok(body(message, attached).endsWith('--Y--\r\n'));
  assert.equal(attached.lines, 13);
  assert.equal(attached.message.envelope.subject, 'inner subject');
  assert.equal(attached.message.envelope.messageId, '<inner@example.net>');
  assert.deepEqual(attached.message.envelope.from, [{ name: 'Inner Sender', adl: null, mailbox: 'inner', host: 'example.net' }]);
  assert.equal(inner.subtype, 'alternative');
  assert.deepEqual(
    inner.children.map((part) => [part.subtype, body(message, part)]),
    [
      ['plain', 'inner text'],
      ['html', '<i>inner</i>'],
    ],
  );
  assert.equal(structure.subject, 'outer');
  assert.equal(structure.messageId, null);
});

test('message/rfc822 with base64 transfer encoding is an opaque leaf', async () => {
  const message = crlf('Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogeA0KDQpoaQ==', '');
  const structure = await parse(message);
  assert.equal(structure.root.type, 'message');
  assert.equal(structure.root.message, null);
});

test('multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5)', async () => {
  const message = crlf(
    'Content-Type: multipart/digest; boundary=d',
    '',
    '--d',
    '',
    'Subject: first',
    '',
    'one',
    '--d',
    'Content-Type: text/plain',
    '',
    'not a message',
    '--d--',
  );
  const structure = await parse(message);
  const [first, second] = structure.root.children;
  assert.equal(first.type, 'message');
  assert.equal(first.subtype, 'rfc822');
  assert.deepEqual(first.params, []);
  assert.ok(first.message);
  assert.equal(first.message.envelope.subject, 'first');
  assert.equal(body(message, first.message.root), 'one');
  assert.equal(second.type, 'text');
  // Inside a digest's message the default is text/plain again.
  assert.equal(first.message.root.type, 'text');
});

test('RFC 2231 parameters: continuations joined, extended values kept encoded', async () => {
  const message = crlf(
    'Content-Type: application/x-stuff;',
    "  title*0*=us-ascii'en'This%20is%20even%20more%20;",
    '  title*1*=%2A%2A%2Afun%2A%2A%2A%20;',
    '  title*2="isn\'t it!";',
    '  name*1=" world"; name*0=hello;',
    '  Charset=UTF-8 (comment)',
    "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20rates.txt",
    '',
    'x',
  );
  const structure = await parse(message);
  assert.deepEqual(structure.root.params, [
    ['title*', "us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!"],
    ['name', 'hello world'],
    ['charset', 'UTF-8'],
  ]);
  assert.deepEqual(structure.root.disposition, { type: 'attachment', params: [['filename*', "utf-8''%E2%82%AC%20rates.txt"]] });
});

test('bare LF line endings', async () => {
  const message = Buffer.from('Subject: lf\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\nfirst\nline\n--z\n\nsecond\n--z--\n');
  const structure = await parse(message);
  assert.equal(header(message, structure.root), 'Subject: lf\nContent-Type: multipart/mixed; boundary=z\n\n');
  const [first, second] = structure.root.children;
  assert.equal(header(message, first), 'Content-Type: text/plain\n\n');
  assert.equal(body(message, first), 'first\nline');
  assert.equal(first.lines, 2);
  assert.equal(header(message, second), '\n');
  assert.equal(body(message, second), 'second');
  assert.equal(structure.root.headers[0].end, 'Subject: lf\n'.length);
});

test('no body: the header ends with an empty line and nothing follows', async () => {
  const message = crlf('Subject: empty', '', '');
  const structure = await parse(message);
  assert.equal(structure.root.bodyStart, message.length);
  assert.equal(structure.root.lines, 0);
  assert.equal(structure.envelope.subject, 'empty');
});

test('headers only: no empty line at all', async () => {
  for (const message of [crlf('Subject: only', 'From: x@y'), crlf('Subject: only', 'From: x@y', '')]) {
    const structure = await parse(message);
    assert.equal(structure.root.bodyStart, message.length);
    assert.equal(structure.root.end, message.length);
    assert.equal(structure.root.headers.length, 2);
    assert.equal(structure.envelope.subject, 'only');
  }
});

test('empty message', async () => {
  const structure = await parse(Buffer.alloc(0));
  assert.equal(structure.size, 0);
  assert.equal(structure.root.type, 'text');
  assert.equal(structure.envelope.from, null);
});

test('missing final boundary: the last part runs to the end', async () => {
  const message = crlf('Content-Type: multipart/mixed; boundary=q', '', '--q', '', 'one', '--q', '', 'two', 'still two');
  const structure = await parse(message);
  const [one, two] = structure.root.children;
  assert.equal(body(message, one), 'one');
  assert.equal(body(message, two), 'two\r\nstill two');
  assert.equal(two.lines, 2);
  assert.equal(two.end, message.length);
});

test('a part that is only a header, ended by the boundary', async () => {
  const message = crlf('Content-Type: multipart/mixed; boundary=q', '', '--q', 'Content-Type: text/html', '--q', '', 'x', '--q--');
  const structure = await parse(message);
  const [onlyHeader, second] = structure.root.children;
  assert.equal(header(message, onlyHeader), 'Content-Type: text/html');
  assert.equal(onlyHeader.subtype, 'html');
  assert.equal(body(message, onlyHeader), '');
  assert.equal(body(message, second), 'x');
});

test('exact offsets: the bytes between parts are exactly CRLF and the delimiter line', async () => {
  const message = crlf(
    'Content-Type: multipart/mixed; boundary="simple boundary"',
    '',
    'preamble',
    '--simple boundary  ',
    '',
    'first, with transport padding on its delimiter',
    '--simple boundary',
    '',
    '',
    '--simple boundary',
    'Content-Type: text/plain',
    '',
    'last',
    '',
    '--simple boundary--  ',
    'epilogue',
  );
  const structure = await parse(message);
  const parts = structure.root.children;
  assert.equal(parts.length, 3);
  assert.equal(message.subarray(structure.root.bodyStart, parts[0].headerStart).toString(), 'preamble\r\n--simple boundary  \r\n');
  assert.equal(message.subarray(parts[0].end, parts[1].headerStart).toString(), '\r\n--simple boundary\r\n');
  assert.equal(message.subarray(parts[1].end, parts[2].headerStart).toString(), '\r\n--simple boundary\r\n');
  assert.equal(message.subarray(parts[2].end, structure.root.end).toString(), '\r\n--simple boundary--  \r\nepilogue');
  assert.equal(body(message, parts[1]), '');
  assert.equal(header(message, parts[1]), '\r\n');
  assert.equal(parts[1].lines, 0);
  assert.equal(body(message, parts[2]), 'last\r\n');
  assert.equal(parts[2].lines, 1);
});

test('exact offsets: the parts and the bytes between them reproduce the message', async () => {
  const message = multipartAlternative;
  const structure = await parse(message);
  const pieces: Buffer[] = [];
  let position = 0;
  const visit = (part: BodyPart): void => {
    pieces.push(message.subarray(position, part.headerStart));
    pieces.push(message.subarray(part.headerStart, part.bodyStart));
    position = part.bodyStart;
    for (const child of part.children) visit(child);
    if (part.children.length === 0) {
      pieces.push(message.subarray(part.bodyStart, part.end));
      position = part.end;
    }
  };
  visit(structure.root);
  pieces.push(message.subarray(position));
  assert.ok(Buffer.concat(pieces).equals(message));
});

test('a boundary that is a prefix of another line is not a delimiter', async () => {
  const message = crlf('Content-Type: multipart/mixed; boundary=ab', '', '--ab', '', '--abc', '--ab-', '--ab--');
  const structure = await parse(message);
  assert.equal(structure.root.children.length, 1);
  assert.equal(body(message, structure.root.children[0]), '--abc\r\n--ab-');
});

test('an outer boundary ends the inner multipart (RFC 2046 §5.1.2)', async () => {
  const message = crlf(
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    '',
    'never closed',
    '--outer',
    '',
    'second',
    '--outer--',
  );
  const structure = await parse(message);
  const [inner, second] = structure.root.children;
  assert.equal(inner.children.length, 1);
  assert.equal(body(message, inner.children[0]), 'never closed');
  assert.equal(body(message, second), 'second');
});

test('multipart without a boundary is one opaque part', async () => {
  const message = crlf('Content-Type: multipart/mixed', '', '--x', '', 'body', '--x--');
  const structure = await parse(message);
  assert.equal(structure.root.type, 'multipart');
  assert.deepEqual(structure.root.children, []);
});

test('invalid Content-Type falls back to text/plain (RFC 2045 §5.2)', async () => {
  const structure = await parse(crlf('Content-Type: garbage', '', 'x'));
  assert.equal(structure.root.type, 'text');
  assert.deepEqual(structure.root.params, [['charset', 'us-ascii']]);
});

test('folded and duplicated header fields: first occurrence wins, unfolded raw text', async () => {
  const message = crlf('Subject: first', '  folded', 'Subject: second', 'In-Reply-To: <a@b>', 'References: <r1@x>', '\t<r2@x> <a@b>', '', '');
  const structure = await parse(message);
  assert.equal(structure.envelope.subject, 'first  folded');
  assert.equal(structure.subject, 'first  folded');
  assert.equal(structure.envelope.inReplyTo, '<a@b>');
  assert.deepEqual(structure.inReplyTo, ['<a@b>']);
  assert.deepEqual(structure.references, ['<r1@x>', '<r2@x>', '<a@b>']);
  assert.deepEqual(
    structure.root.headers.map((field) => field.name),
    ['subject', 'subject', 'in-reply-to', 'references'],
  );
});

test('8-bit headers: UTF-8 is kept as text', async () => {
  const structure = await parse(Buffer.from('Subject: Grüße\r\nFrom: Jörg <j@x.de>\r\n\r\n'));
  assert.equal(structure.envelope.subject, 'Grüße');
  assert.equal(structure.subject, 'Grüße');
  assert.equal(structure.envelope.from?.[0].name, 'Jörg');
});

test('obsolete and commented dates', async () => {
  const cases: [string, number | null][] = [
    ['Fri, 21 Nov 97 09:55:06 -0600', Date.UTC(1997, 10, 21, 15, 55, 6)],
    ['21 Nov 1997 09:55:06 GMT (Greenwich)', Date.UTC(1997, 10, 21, 9, 55, 6)],
    ['Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)', Date.UTC(1969, 1, 14, 3, 2, 0)],
    ['Mon, 1 Jan 2024 00:00:00 PST', Date.UTC(2024, 0, 1, 8, 0, 0)],
    ['not a date', null],
  ];
  for (const [date, expected] of cases) {
    const structure = await parseStructure(Buffer.from(`Date: ${date}\r\n\r\n`));
    assert.equal(structure.sentDate, expected, date);
  }
});

test('nesting deeper than MAX_DEPTH becomes an opaque leaf', async () => {
  const depth = MAX_DEPTH + 20;
  const parts: string[] = [];
  for (let level = 0; level < depth; level++) parts.push(`Content-Type: multipart/mixed; boundary=b${level}`, '', `--b${level}`);
  parts.push('', 'deepest');
  const message = crlf(...parts);
  const structure = await parseStructure(message);
  checkInvariants(structure, message);
  let levels = 0;
  let part = structure.root;
  while (part.children.length > 0) {
    part = part.children[0];
    levels++;
  }
  assert.equal(levels, MAX_DEPTH);
  assert.equal(part.type, 'multipart');
});

test('deeply nested message/rfc822 is bounded too', async () => {
  const message = Buffer.from('Content-Type: message/rfc822\r\n\r\n'.repeat(MAX_DEPTH * 3) + 'hello');
  const structure = await parseStructure(message);
  checkInvariants(structure, message);
  let levels = 0;
  let part = structure.root;
  while (part.message) {
    part = part.message.root;
    levels++;
  }
  assert.equal(levels, MAX_DEPTH);
});

test('more than MAX_PARTS parts: the rest is opaque', async () => {
  const message = Buffer.from('Content-Type: multipart/mixed; boundary=p\r\n\r\n' + '--p\r\n\r\nx\r\n'.repeat(MAX_PARTS + 500) + '--p--\r\n');
  const started = Date.now();
  const structure = await parseStructure(message);
  checkInvariants(structure, message);
  assert.equal(structure.root.children.length, MAX_PARTS - 1);
  assert.ok(Date.now() - started < 5000);
});

test('a huge header line and many header fields are handled in linear time', async () => {
  const longLine = Buffer.concat([Buffer.from('Subject: '), Buffer.alloc(8 * 1024 * 1024, 'a'), Buffer.from('\r\n')]);
  const manyFields = Buffer.from('X-Field: value\r\n'.repeat(200_000));
  const message = Buffer.concat([longLine, manyFields, Buffer.from('\r\nbody\r\n')]);
  const started = Date.now();
  const parser = createStructureParser();
  for (let offset = 0; offset < message.length; offset += 65536) await parser.write(message.subarray(offset, offset + 65536));
  const structure = await parser.finish();
  checkInvariants(structure, message);
  assert.ok(Date.now() - started < 5000, 'fast enough');
  assert.equal(structure.root.headers[0].end, longLine.length);
  const subjectLength = structure.envelope.subject!.length;
  assert.ok(subjectLength > 60 * 1024 && subjectLength <= 64 * 1024, 'the value is truncated, not dropped');
  assert.equal(structure.root.headers.length, 1000);
  assert.equal(body(message, structure.root), 'body\r\n');
});

test('a 50 MB attachment streams through without being held in memory', async () => {
  const head = Buffer.from('Content-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\n\r\nhi\r\n--big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n');
  const line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWkFC\r\n');
  const chunk = Buffer.concat(Array.from({ length: 1024 }, () => line)); // ~76 KiB
  const chunks = Math.ceil((50 * 1024 * 1024) / chunk.length);
  const tail = Buffer.from('--big--\r\n');
  global.gc?.();
  const before = process.memoryUsage();
  const parser = createStructureParser();
  await parser.write(head);
  for (let i = 0; i < chunks; i++) await parser.write(chunk);
  await parser.write(tail);
  const structure = await parser.finish();
  const after = process.memoryUsage();
  const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  assert.ok(grown < 40 * 1024 * 1024, `memory grew by ${grown} bytes`);
  const attachment = structure.root.children[1];
  assert.equal(structure.size, head.length + chunks * chunk.length + tail.length);
  assert.equal(attachment.bodyStart, head.length);
  assert.equal(attachment.end, head.length + chunks * chunk.length - 2);
  assert.equal(attachment.lines, chunks * 1024);
});

test('writes issued without awaiting still apply in order', async () => {
  const parser = createStructureParser();
  const writes: Promise<void>[] = [];
  for (let offset = 0; offset < multipartAlternative.length; offset += 5) writes.push(parser.write(multipartAlternative.subarray(offset, offset + 5)));
  await Promise.all(writes);
  assert.deepEqual(await parser.finish(), await parseStructure(multipartAlternative));
});

test('parseStructure accepts an async iterable of chunks', async () => {
  async function* chunks(): AsyncIterable<Buffer> {
    for (let offset = 0; offset < multipartAlternative.length; offset += 10) yield multipartAlternative.subarray(offset, offset + 10);
  }
  assert.deepEqual(await parseStructure(chunks()), await parseStructure(multipartAlternative));
});

test('the structure survives a JSON round trip', async () => {
  const structure = await parseStructure(multipartAlternative);
  assert.deepEqual(JSON.parse(JSON.stringify(structure)), structure);
});

test('an unexpected internal failure yields one text/plain part covering the message', async () => {
  const { StructureBuilder } = await import('../../src/mime/parser.js');
  const original = StructureBuilder.prototype.push;
  StructureBuilder.prototype.push = () => {
    throw new Error('simulated bug');
  };
  try {
    const structure = await parseStructure(multipartAlternative);
    checkInvariants(structure, multipartAlternative);
    assert.equal(structure.root.type, 'text');
    assert.equal(structure.root.bodyStart, 0);
    assert.equal(structure.root.lines, multipartAlternative.toString().split('\n').length - 1);
  } finally {
    StructureBuilder.prototype.push = original;
  }
});

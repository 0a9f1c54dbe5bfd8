// SEARCH text keys over decoded text (RFC 9051 §6.4.4): RFC 2047 headers, base64 and
// quoted-printable bodies in other charsets, attached messages, address forms, case.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer } from './server-harness.js';

const message = (lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n');

const messages = [
  // 1: RFC 2047 subject (Latin-1, Q) and name (UTF-8, B); a base64 UTF-8 body.
  message([
    'From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.org>',
    'To: alice@example.com',
    'Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?= and more',
    'Date: Fri, 27 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('Grüße aus Köln: Straßenbahn fährt\r\n').toString('base64'),
  ]),
  // 2: quoted-printable Latin-1 body with a soft line break inside a word; a folded subject.
  message([
    'From: "Carol" <carol@example.net>',
    'To: alice@example.com',
    'Subject: a folded',
    ' subject line',
    'Date: Fri, 27 Nov 2026 11:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Le cr=E9puscule tomb=',
    'e sur la ville',
  ]),
  // 3: multipart: a text part, an attachment whose base64 bytes spell words, an attached message.
  message([
    'From: dave (Dave Jones) <dave@example.com>',
    'To: undisclosed-recipients:;',
    'Subject: with parts',
    'Date: Fri, 27 Nov 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'see attachment',
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('secretbinaryword').toString('base64'),
    '--b',
    'Content-Type: message/rfc822',
    '',
    'From: erin@example.com',
    'Subject: =?UTF-8?Q?inner_=C3=BCber?=',
    '',
    'inner body words',
    '--b--',
  ]),
  // 4: plain ASCII, the raw form of encoded words must not be what matches.
  message([
    'From: frank@example.com',
    'To: alice@example.com',
    'Subject: plain =?x?',
    'Date: Fri, 27 Nov 2026 13:00:00 +0000',
    '',
    'nothing encoded here, ISO-8859-1 Q and B are just words',
  ]),
];

test('SEARCH decodes RFC 2047 headers, base64/QP bodies and charsets, and folds case', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  for (const bytes of messages) await server.account.append('INBOX', bytes);
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('t0', 'SELECT INBOX');

  const search = async (tag: string, criteria: string | Buffer): Promise<string> => {
    const reply = await client.command(tag, typeof criteria === 'string' ? `SEARCH ${criteria}` : Buffer.concat([Buffer.from('SEARCH '), criteria]));
    assert.match(reply, new RegExp(`^${tag} OK`, 'm'), reply);
    return /^\* SEARCH([ \d]*)\r\n/m.exec(reply)![1]!.trim();
  };
  // A UTF-8 search string sent as a literal (LITERAL+), as clients do.
  const utf8 = (prefix: string, text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    return Buffer.concat([Buffer.from(`CHARSET UTF-8 ${prefix} {${bytes.length}+}\r\n`), bytes]);
  };

  // Headers: encoded-words are decoded, in any charset, case-insensitively (also beyond ASCII).
  assert.equal(await search('h1', utf8('SUBJECT', 'café crème')), '1');
  assert.equal(await search('h2', utf8('SUBJECT', 'CAFÉ')), '1');
  assert.equal(await search('h3', 'SUBJECT "ISO-8859-1"'), '', 'the encoded-word syntax itself is not the subject');
  assert.equal(await search('h4', utf8('FROM', 'jürgen müller')), '1');
  assert.equal(await search('h5', 'SUBJECT "folded subject"'), '2', 'folding whitespace is unfolded');
  assert.equal(await search('h6', utf8('HEADER SUBJECT', 'über')), '', 'the attached message header is not the top-level header');

  // Bodies: base64 and quoted-printable are decoded, then the charset.
  assert.equal(await search('b1', utf8('BODY', 'straßenbahn FÄHRT')), '1');
  assert.equal(await search('b2', 'BODY "Grsse"'), '');
  assert.equal(await search('b3', utf8('BODY', 'crépuscule tombe sur')), '2', 'a soft line break joins the word');
  assert.equal(await search('b4', 'BODY "cr=E9puscule"'), '', 'the encoded form is not the text');
  assert.equal(await search('b5', 'BODY attachment'), '3');
  assert.equal(await search('b6', 'BODY secretbinaryword'), '', 'non-text parts are not searched');
  assert.equal(await search('b7', `BODY "${Buffer.from('secretbinaryword').toString('base64').slice(0, 12)}"`), '', 'nor their encoded bytes');
  assert.equal(await search('b8', 'BODY "inner body WORDS"'), '3', 'an attached message body is body text');
  assert.equal(await search('b9', utf8('BODY', 'inner über')), '3', 'and so is its decoded header');
  assert.equal(await search('b10', 'BODY "ISO-8859-1 q AND b"'), '4');

  // TEXT is header or body, decoded.
  assert.equal(await search('x1', utf8('TEXT', 'Köln')), '1');
  assert.equal(await search('x2', utf8('TEXT', 'crème')), '1');
  assert.equal(await search('x3', 'TEXT "Subject: with parts"'), '3');
  assert.equal(await search('x4', 'TEXT "ISO-8859-1?Q"'), '', 'encoded-words are matched decoded only');

  // Addresses: the parsed form `Name <mailbox@host>` as well as the header; comments as names.
  assert.equal(await search('a1', 'FROM "Dave Jones"'), '3');
  assert.equal(await search('a2', 'FROM "<dave@example.com>"'), '3');
  assert.equal(await search('a3', 'FROM "carol <carol@"'), '2');
  assert.equal(await search('a4', 'TO undisclosed-recipients'), '3');
  assert.equal(await search('a5', 'OR FROM frank NOT TO alice'), '3 4');

  // US-ASCII is accepted; an unknown charset is refused with the supported list.
  assert.equal(await search('c1', 'CHARSET US-ASCII BODY crepuscule'), '');
  assert.match(await client.command('c2', 'SEARCH CHARSET X-NOPE BODY a'), /^c2 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/m);
});

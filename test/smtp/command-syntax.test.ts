// Command lines as bytes: only CRLF ends one (RFC 5321 §2.3.8), and non-ASCII
// addresses need SMTPUTF8 (RFC 6531 §3.4-3.5). A refused line does nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawSmtpClient } from './raw-smtp-client.js';
import { password, python, startHarness, type Harness } from './smtp-harness.js';

let harness: Harness;

before(async () => {
  harness = await startHarness();
});

after(async () => harness.close());

async function greeted(): Promise<RawSmtpClient> {
  const { client, banner } = await RawSmtpClient.connect(harness.mxPort);
  assert.match(banner, /^220 /);
  assert.match(await client.command('EHLO client.example.org\r\n'), /^250-/);
  return client;
}

async function inboxCount(): Promise<number> {
  return (await harness.account.getMailbox('INBOX')).messages;
}

test('a bare LF inside a command line is refused once (500 5.5.2) and neither command in it runs', async () => {
  const client = await greeted();
  assert.match(await client.command('MAIL FROM:<carol@example.org>\nRCPT TO:<alice@example.com>\r\n'), /^500 5\.5\.2 .*bare CR or LF/);
  // MAIL did not run: RCPT still needs it.
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^503 /);
  assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  client.close();
});

test('a bare CR inside a command line is refused (500 5.5.2), and nothing in the line runs', async () => {
  const client = await greeted();
  assert.match(await client.command('MAIL FROM:<carol@example.org>\rRCPT TO:<alice@example.com>\r\n'), /^500 5\.5\.2 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^503 /);
  // A CR right before the CRLF is bare too.
  assert.match(await client.command('NOOP\r\r\n'), /^500 5\.5\.2 /);
  assert.match(await client.command('NOOP\r\n'), /^250 /);
  client.close();
});

test('the rest of a line after a bare LF is the same line: DATA in it never starts a message', async () => {
  const before = await inboxCount();
  const client = await greeted();
  assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  // Everything up to the CRLF is one refused line: one reply, no 354, no message.
  await client.write('RSET\nDATA\nSubject: smuggled\n\nbody\n.\r\n');
  assert.match(await client.reply(), /^500 5\.5\.2 /);
  assert.match(await client.command('NOOP\r\n'), /^250 /);
  assert.deepEqual(client.unread, []);
  // The transaction survived the refused RSET: DATA now works and stores one message.
  assert.match(await client.command('DATA\r\n'), /^354 /);
  assert.match(await client.command('Subject: real\r\n\r\nbody\r\n.\r\n'), /^250 2\.6\.0 /);
  assert.equal(await inboxCount(), before + 1);
  client.close();
});

test('LF-only lines are one line until a CRLF: one 500 for them, and 421 once they pass the command-line limit', async () => {
  const client = await greeted();
  await client.write('NOOP\nNOOP\nNOOP\n');
  assert.match(await client.reply(), /^500 5\.5\.2 /);
  await client.write(Buffer.alloc(20 * 1024, 'x\n'));
  assert.match(await client.reply(), /^421 /);
  assert.equal(await client.reply(), '(closed)');
  assert.deepEqual(client.unread, []);
});

test('an 8-bit MAIL FROM or RCPT TO without SMTPUTF8 is 553 5.6.7; with SMTPUTF8 it is accepted', async () => {
  const client = await greeted();
  assert.match(await client.command(Buffer.from('MAIL FROM:<jörg@example.org>\r\n', 'utf8')), /^553 5\.6\.7 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^503 /);
  assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await client.command(Buffer.from('RCPT TO:<jörg@example.com>\r\n', 'utf8')), /^553 5\.6\.7 /);
  assert.match(await client.command('RSET\r\n'), /^250 /);
  assert.match(await client.command(Buffer.from('MAIL FROM:<jörg@example.org> SMTPUTF8\r\n', 'utf8')), /^250 /);
  // Allowed now, and simply unknown here.
  assert.match(await client.command(Buffer.from('RCPT TO:<jörg@example.com>\r\n', 'utf8')), /^550 5\.1\.1 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  assert.match(await client.command('RSET\r\n'), /^250 /);
  // Bytes that are not UTF-8 are no address, SMTPUTF8 or not.
  assert.match(await client.command(Buffer.concat([Buffer.from('MAIL FROM:<j'), Buffer.from([0xf6]), Buffer.from('rg@example.org> SMTPUTF8\r\n')])), /^553 5\.1\.7 /);
  client.close();
});

test('submission (STARTTLS, AUTH): an 8-bit sender without SMTPUTF8 is 553 5.6.7, and a bare LF is 500 5.5.2', async () => {
  const result = await python(
    `
s = smtplib.SMTP('127.0.0.1', PORT, timeout=20)
s.starttls(context=ssl._create_unverified_context())
s.ehlo('client.example.org')
s.login('alice@example.com', ${JSON.stringify(password)})
s.send('MAIL FROM:<jörg@example.com>\\r\\n'.encode('utf-8'))
print(s.getreply())
s.send(b'MAIL FROM:<alice@example.com>\\nRCPT TO:<bob@example.com>\\r\\n')
print(s.getreply())
print(s.docmd('RCPT TO:<bob@example.com>'))
s.quit()
`,
    harness.submissionPort,
  );
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0]!, /^\(553, b'5\.6\.7 /);
  assert.match(lines[1]!, /^\(500, b'5\.5\.2 /);
  assert.match(lines[2]!, /^\(503, /);
});

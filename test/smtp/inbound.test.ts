// The MX over real TLS with real clients (swaks, Python's smtplib): each
// acceptance and refusal code, the headers added, a 10 MB message streaming through.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import { startHarness, python, run, swaks, type Harness } from './smtp-harness.js';

let harness: Harness;

before(async () => {
  harness = await startHarness({
    smtp: { maxRecipients: 3, maxReceivedHeaders: 5, maxMessageSize: 12 * 1024 * 1024 },
    zone: {
      'example.org': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
      // The local domain's own SPF record names this host, so MAIL FROM:<postmaster@example.com> below passes (smtp.refuseLocalDomainSpoofing).
      'example.com': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
      'reject.test': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
      '_dmarc.reject.test': { TXT: [['v=DMARC1; p=reject']] },
    },
  });
});

after(async () => harness.close());

async function inboxCount(login = 'alice@example.com', mailbox = 'INBOX'): Promise<number> {
  return (await (await harness.store.account(login)).getMailbox(mailbox)).messages;
}

test('swaks over STARTTLS: 250 after a durable delivery, with Received and Authentication-Results on top', async () => {
  const before = await inboxCount();
  const result = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'alice@example.com', '--tls']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  for (const capability of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'SIZE 12582912', 'STARTTLS']) assert.match(result.stdout, new RegExp(`250[- ]${capability}`));
  assert.match(result.stdout, /<~  250 2\.6\.0 Message accepted/);
  assert.equal(await inboxCount(), before + 1);
  const inbox = await harness.account.getMailbox('INBOX');
  const [record] = (await harness.account.fetch(inbox.id, {})).slice(-1);
  const text = (await harness.account.readMessage(inbox.id, record!.uid)).toString();
  assert.match(text, /^Return-Path: <carol@example\.org>\r\nReceived: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.com \(Postkeep\) with ESMTPS id /);
  assert.match(text, /Authentication-Results: mx\.example\.com;[\s\S]*spf=pass/);
  assert.match(text, /dmarc=/);
});

test('python smtplib: unknown local user 550 5.1.1, relay 554 5.7.1, too many recipients 452 4.5.3', async () => {
  const result = await python(
    `
s = smtplib.SMTP('127.0.0.1', PORT, timeout=20)
s.starttls(context=ssl._create_unverified_context())
s.ehlo('client.example.org')
s.mail('carol@example.org')
print(s.rcpt('nobody@example.com'))
print(s.rcpt('someone@elsewhere.test'))
print(s.rcpt('alice@example.com'))
print(s.rcpt('postmaster@example.com'))
print(s.rcpt('bob@example.com'))
print(s.rcpt('bob+x@example.com'))
s.quit()
`,
    harness.mxPort,
  );
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0]!, /^\(550, b'5\.1\.1 No such user here'\)/);
  assert.match(lines[1]!, /^\(554, b'5\.7\.1 Relay access denied/);
  assert.match(lines[2]!, /^\(250, /);
  assert.match(lines[3]!, /^\(250, /);
  assert.match(lines[4]!, /^\(250, /);
  assert.match(lines[5]!, /^\(452, b'4\.5\.3 /);
});

test('SIZE: a declared size over the limit is 552 at MAIL FROM, and an oversized DATA is 552 5.3.4', async () => {
  const result = await python(
    `
s = smtplib.SMTP('127.0.0.1', PORT, timeout=20)
s.ehlo('client.example.org')
print(s.mail('carol@example.org', ['SIZE=99999999']))
s.rset()
s.mail('carol@example.org')
s.rcpt('alice@example.com')
print(s.data(b'Subject: big\\r\\n\\r\\n' + b'x' * 13000000 + b'\\r\\n'))
s.quit()
`,
    harness.mxPort,
  );
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0]!, /^\(552, /);
  assert.match(lines[1]!, /^\(552, b'5\.3\.4 /);
});

test('a 10 MB message streams through and is stored byte for byte below the added headers', async () => {
  const line = 'The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz.\r\n';
  const body = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
  const message = `From: carol@example.org\r\nTo: alice@example.com\r\nSubject: ten megabytes\r\n\r\n${body}`;
  const before = await inboxCount();
  const piped = await run('swaks', ['--server', '127.0.0.1', '--port', String(harness.mxPort), '--helo', 'client.example.org', '--from', 'carol@example.org', '--to', 'alice@example.com', '--tls', '--data', '-', '--suppress-data'], message);
  assert.equal(piped.code, 0, piped.stdout.slice(-2000) + piped.stderr);
  assert.equal(await inboxCount(), before + 1);
  const inbox = await harness.account.getMailbox('INBOX');
  const [record] = (await harness.account.fetch(inbox.id, {})).slice(-1);
  const stored = await harness.account.readMessage(inbox.id, record!.uid);
  assert.ok(stored.length > 10 * 1024 * 1024);
  const start = stored.indexOf('From: carol@example.org\r\nTo: alice@example.com\r\nSubject: ten megabytes');
  assert.ok(start > 0, 'the client header follows the added ones');
  // swaks ends the DATA with one more CRLF of its own.
  assert.ok(stored.subarray(start, start + message.length).equals(Buffer.from(message)), 'the client bytes are stored unchanged');
  assert.ok(stored.length - start - message.length <= 2);
});

test('a mail loop (too many Received headers) is refused with 554 5.4.6', async () => {
  const received = Array.from({ length: 6 }, (_, index) => `Received: from hop${index}.example.org by hop${index + 1}.example.org; Fri, 27 Nov 2026 10:00:00 +0000`).join('\r\n');
  const result = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'alice@example.com', '--add-header', received]);
  assert.match(result.stdout, /<\*\* 554 5\.4\.6 Too many Received headers/);
});

test('DMARC p=reject failure is refused at DATA with 550 5.7.1 (dmarcReject = "reject")', async () => {
  const before = await inboxCount();
  const result = await swaks(harness.mxPort, ['--from', 'ceo@reject.test', '--to', 'alice@example.com', '--header', 'From: ceo@reject.test']);
  assert.match(result.stdout, /<\*\* 550 5\.7\.1 Message rejected by the sender domain's DMARC policy/);
  assert.equal(await inboxCount(), before);
});

test('a full mailbox is 452 4.2.2 at RCPT; the sender may try again later', async () => {
  await harness.store.admin.setQuota('bob@example.com', { quotaMessages: 0 });
  try {
    const result = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'bob@example.com']);
    assert.match(result.stdout, /<\*\* 452 4\.2\.2 Mailbox full/);
  } finally {
    await harness.store.admin.setQuota('bob@example.com', { quotaMessages: null });
  }
});

test('AUTH is not offered on the MX, and garbage gets a 5xx without closing the connection', async () => {
  const transcript = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(harness.mxPort, '127.0.0.1');
    let text = '';
    socket.on('data', (data) => {
      text += data.toString();
      if (text.includes('220 ') && !text.includes('EHLO-SENT')) {
        text += 'EHLO-SENT\n';
        socket.write('EHLO client.example.org\r\nAUTH PLAIN AGFsaWNlAHg=\r\nFOO BAR\r\nMAIL FROM:<not an address\r\nNOOP\r\nQUIT\r\n');
      }
      if (/221 /.test(text)) socket.end();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  assert.doesNotMatch(transcript, /250-AUTH/);
  assert.match(transcript, /\n5\d\d [^\n]*\r\n5\d\d [^\n]*\r\n5\d\d [^\n]*\r\n250 [^\n]*\r\n221 /, transcript);
});

test('a recipient whose quota fills between RCPT and DATA is bounced with a DSN while the others get the message', async () => {
  await harness.store.admin.setQuota('bob@example.com', { quotaBytes: 100 });
  try {
    const aliceBefore = await inboxCount();
    const bobBefore = await inboxCount('bob@example.com');
    // The sender is alice's alias, so the DSN lands in her INBOX too.
    const result = await swaks(harness.mxPort, ['--from', 'postmaster@example.com', '--to', 'alice@example.com,bob@example.com', '--header', 'Subject: partly over quota']);
    assert.match(result.stdout, /^<\S* +250 2\.6\.0 Message accepted for 1 mailbox/m, result.stdout);
    assert.equal(await inboxCount('bob@example.com'), bobBefore);
    assert.equal(await inboxCount(), aliceBefore + 2, 'the message and the DSN');
    const inbox = await harness.account.getMailbox('INBOX');
    const records = await harness.account.fetch(inbox.id, {});
    const dsn = (await harness.account.readMessage(inbox.id, records[records.length - 1]!.uid)).toString();
    assert.match(dsn, /report-type=delivery-status/);
    assert.match(dsn, /Final-Recipient: rfc822; bob@example\.com\r\nAction: failed\r\nStatus: 5\.2\.2\r\nDiagnostic-Code: smtp; 452 4\.2\.2 Mailbox full/);
    assert.match(dsn, /Subject: partly over quota/);
  } finally {
    await harness.store.admin.setQuota('bob@example.com', { quotaBytes: null });
  }
});

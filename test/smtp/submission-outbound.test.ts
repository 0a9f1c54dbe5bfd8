// Submission (587 STARTTLS, 465 implicit TLS) with real clients, and the outbound
// queue delivering to a second SMTP server on loopback standing in for a remote MX
// (found through the fixed DNS zone): DKIM verifies there, 4xx is retried, 5xx
// bounces a DSN to the local sender.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { SMTPServer } from 'smtp-server';
import { generateDkimKey, dkimTxtRecord } from '../../src/smtp/outbound/dkim-signature.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import { password, python, startHarness, swaks, type Harness } from './smtp-harness.js';

let harness: Harness;
let remote: SMTPServer;
const received: { from: string; to: string[]; message: Buffer }[] = [];
const temporaryRefusals = new Map<string, number>();
const zone: Parameters<typeof staticResolver>[0] = {
  'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
  'mx.remote.test': { A: ['127.0.0.1'] },
};

before(async () => {
  // The stand-in remote MX: 451 once for temp@, 550 for reject@, 250 otherwise.
  remote = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('reject@')) return callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
      if (address.address.startsWith('temp@') && (temporaryRefusals.get(address.address) ?? 0) < 1) {
        temporaryRefusals.set(address.address, (temporaryRefusals.get(address.address) ?? 0) + 1);
        return callback(Object.assign(new Error('4.2.0 Try again later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((entry) => entry.address), message: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const remotePort = (remote.server.address() as { port: number }).port;
  const key = generateDkimKey();
  zone['postkeep._domainkey.example.com'] = { TXT: [[dkimTxtRecord(key.publicKeyBase64)]] };
  harness = await startHarness({ zone, outbound: { port: remotePort, retryBaseSeconds: 1, retryMaxSeconds: 2, timeoutSeconds: 10 } });
  await harness.store.dkimKeys.set({ domain: 'example.com', selector: 'postkeep', privateKey: key.privateKey });
});

after(async () => {
  await harness.close();
  await new Promise<void>((resolve) => remote.close(() => resolve()));
});

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMilliseconds = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('AUTH is not offered before STARTTLS, and MAIL without AUTH is 530 5.7.0', async () => {
  const result = await python(
    `
s = smtplib.SMTP('127.0.0.1', PORT, timeout=20)
code, text = s.ehlo('client.example.org')
print('AUTH' in text.decode())
print(s.mail('alice@example.com'))
s.starttls(context=ssl._create_unverified_context())
code, text = s.ehlo('client.example.org')
print('AUTH PLAIN LOGIN' in text.decode())
s.quit()
`,
    harness.submissionPort,
  );
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines[0], 'False');
  assert.match(lines[1]!, /^\(530, b'5\.7\.0 Authentication required'\)/);
  assert.equal(lines[2], 'True');
});

test('a wrong password is 535 5.7.8; AUTH LOGIN and PLAIN work after STARTTLS', async () => {
  const wrong = await swaks(harness.submissionPort, ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.com', '--auth-password', 'wrong', '--from', 'alice@example.com', '--to', 'bob@example.com']);
  assert.match(wrong.stdout, /^<\S* +535 5\.7\.8 Authentication credentials invalid/m);
  for (const method of ['LOGIN', 'PLAIN']) {
    const right = await swaks(harness.submissionPort, ['--tls', '--auth', method, '--auth-user', 'alice@example.com', '--auth-password', password, '--from', 'alice@example.com', '--to', 'bob@example.com', '--header', 'From: alice@example.com']);
    assert.equal(right.code, 0, right.stdout);
    assert.match(right.stdout, /^<\S* +235 2\.7\.0 Authentication successful/m);
  }
});

test('nobody sends as someone else: another envelope sender or From: is 553 5.7.1, an alias of the account is fine', async () => {
  const envelope = await swaks(harness.submissionPort, ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.com', '--auth-password', password, '--from', 'bob@example.com', '--to', 'bob@example.com']);
  assert.match(envelope.stdout, /^<\S* +553 5\.7\.1 Sender address <bob@example\.com> is not yours/m);
  const header = await swaks(harness.submissionPort, ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.com', '--auth-password', password, '--from', 'alice@example.com', '--to', 'bob@example.com', '--header', 'From: Bob <bob@example.com>']);
  assert.match(header.stdout, /^<\S* +553 5\.7\.1 From: address <bob@example\.com> is not yours/m);
  const alias = await swaks(harness.submissionPort, ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.com', '--auth-password', password, '--from', 'postmaster@example.com', '--to', 'bob@example.com', '--header', 'From: postmaster@example.com']);
  assert.match(alias.stdout, /^<\S* +250 2\.6\.0 Message accepted/m);
});

test('port 465 (implicit TLS): a message to a local and a remote recipient lands in the INBOX and at the remote MX, DKIM-signed', async () => {
  const bob = await harness.store.account('bob@example.com');
  const before = (await bob.getMailbox('INBOX')).messages;
  const result = await python(
    `
s = smtplib.SMTP_SSL('127.0.0.1', PORT, timeout=20, context=ssl._create_unverified_context())
s.login('alice@example.com', '${password}')
msg = b'From: Alice <alice@example.com>\\r\\nTo: bob@example.com, carol@remote.test\\r\\nSubject: hello both\\r\\nMessage-ID: <both@example.com>\\r\\n\\r\\nHi there.\\r\\n'
print(s.sendmail('alice@example.com', ['bob@example.com', 'carol@remote.test'], msg))
s.quit()
`,
    harness.submissionsPort,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await bob.getMailbox('INBOX')).messages, before + 1);
  await until(() => received.some((entry) => entry.to.includes('carol@remote.test')), 'the remote delivery');
  const delivered = received.find((entry) => entry.to.includes('carol@remote.test'))!;
  assert.equal(delivered.from, 'alice@example.com');
  const verification = await dkimVerify(delivered.message, { resolver: staticResolver(zone) as never });
  assert.equal(verification.results[0]?.status.result, 'pass', JSON.stringify(verification.results[0]?.status));
  assert.equal(verification.results[0]?.signingDomain, 'example.com');
  await until(async () => (await harness.store.outbound.list()).length === 0, 'the queue to empty');
});

test('a 4xx from the remote is retried with backoff; a 5xx bounces an RFC 3464 DSN to the local sender', async () => {
  const inbox = await harness.account.getMailbox('INBOX');
  const before = inbox.messages;
  const result = await swaks(harness.submissionPort, [
    '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.com', '--auth-password', password,
    '--from', 'alice@example.com', '--to', 'temp@remote.test,reject@remote.test', '--header', 'From: alice@example.com', '--header', 'Subject: retry and bounce',
  ]);
  assert.match(result.stdout, /^<\S* +250 2\.6\.0 Message accepted \(queued as \d+\)/m);
  await until(() => received.some((entry) => entry.to.includes('temp@remote.test')), 'the retried delivery');
  assert.equal(temporaryRefusals.get('temp@remote.test'), 1, 'refused once with 451, then delivered');
  await until(async () => (await harness.account.getMailbox('INBOX')).messages === before + 1, 'the DSN');
  const records = await harness.account.fetch(inbox.id, {});
  const dsn = (await harness.account.readMessage(inbox.id, records[records.length - 1]!.uid)).toString();
  assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status/);
  assert.match(dsn, /Final-Recipient: rfc822; reject@remote\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nDiagnostic-Code: smtp; /);
  assert.match(dsn, /Subject: retry and bounce/);
  assert.doesNotMatch(dsn, /temp@remote\.test\r\nAction: failed/);
  // The queue run forgets the message just after it has delivered the DSN.
  await until(async () => (await harness.store.outbound.list()).length === 0, 'the queue to empty');
});

// Isolation battery, SMTP (issue #6): account A, authenticated over real TLS on 587
// (STARTTLS) and 465, tries to send as B (envelope and From:), to log in as B with
// its own password, and to learn about B's address from RCPT/VRFY/EXPN. Every
// attempt gets the documented reply, nothing is delivered or queued, and B's store
// is byte-for-byte the same afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineClient } from '../server/tls-harness.js';
import { alice, bob, bobSecrets, snapshotAccount, isolationSuite } from './isolation-harness.js';

const suite = isolationSuite();

const plain = (authorization: string, login: string, password: string) => Buffer.from(`${authorization}\0${login}\0${password}`).toString('base64');

/** A session on submission: 587 after STARTTLS, or 465; optionally authenticated as A. */
async function submission(port: 'submission' | 'submissions', authenticate = true): Promise<LineClient> {
  const listener = suite.running.server.smtp.listeners[port]!;
  const client = await LineClient.connect(listener.port, port === 'submissions');
  suite.clients.push(client);
  if (port === 'submission') {
    await client.smtp('EHLO client.example.org');
    assert.match(await client.smtp('STARTTLS'), /^220 /m);
    await client.upgrade();
  }
  assert.match(await client.smtp('EHLO client.example.org'), /AUTH PLAIN LOGIN/);
  if (authenticate) assert.match(await client.smtp(`AUTH PLAIN ${plain('', alice.login, alice.password)}`), /^235 /m);
  return client;
}

/** The last reply line of a (multi-line) reply. */
function last(reply: string): string {
  const lines = reply.trimEnd().split('\r\n');
  return lines[lines.length - 1]!;
}

async function data(client: LineClient, message: string): Promise<string> {
  assert.match(await client.smtp('DATA'), /^354 /m);
  return client.smtp(message.replace(/\r?\n/g, '\r\n') + '\r\n.');
}

const senders = ['bob@example.com', 'BOB@EXAMPLE.COM', 'Bob@Example.com', 'robert@example.com', 'postmaster@example.com', 'nobody@example.com', 'bob@example.org', ''];

test('A cannot use B\'s address (or an alias of B, or anyone else\'s) as envelope sender: 553 5.7.1', async () => {
  for (const port of ['submission', 'submissions'] as const) {
    const client = await submission(port);
    for (const sender of senders) {
      assert.match(last(await client.smtp(`MAIL FROM:<${sender}>`)), /^553 5\.7\.1 /, `${port} MAIL FROM:<${sender}>`);
      assert.match(last(await client.smtp(`MAIL FROM:<${sender}> SIZE=100 BODY=8BITMIME`)), /^553 5\.7\.1 /);
    }
    // The control: A's own address is accepted, so the refusals above are about the address.
    assert.match(last(await client.smtp('MAIL FROM:<alice@example.com>')), /^250 /);
    assert.match(last(await client.smtp('RSET')), /^250 /);
    await client.smtp('QUIT');
  }
});

const fromFields = [
  'From: Bob <bob@example.com>',
  'From: bob@example.com',
  'From: "alice@example.com" <bob@example.com>',
  'From: Alice <alice@example.com>, Bob <bob@example.com>',
  'From: Robert <robert@example.com>',
  'From: =?utf-8?q?Alice?= <BOB@example.com>',
  'From: alice@example.com (really) , bob@example.com',
];

test('A cannot put B\'s address in From: (any form, any position): 553 5.7.1 after DATA; two From: fields: 550 5.6.0', async () => {
  for (const port of ['submission', 'submissions'] as const) {
    const client = await submission(port);
    for (const from of fromFields) {
      assert.match(last(await client.smtp('MAIL FROM:<alice@example.com>')), /^250 /);
      assert.match(last(await client.smtp('RCPT TO:<alice@example.com>')), /^250 /);
      const reply = await data(client, `${from}\nTo: alice@example.com\nSubject: forged\n\nforged body\n`);
      assert.match(last(reply), /^553 5\.7\.1 /, `${port} ${from}`);
    }
    assert.match(last(await client.smtp('MAIL FROM:<alice@example.com>')), /^250 /);
    assert.match(last(await client.smtp('RCPT TO:<alice@example.com>')), /^250 /);
    assert.match(last(await data(client, 'From: alice@example.com\nFrom: bob@example.com\nSubject: two\n\nbody\n')), /^550 5\.6\.0 /);
    await client.smtp('QUIT');
  }
});

test('AUTH as B with A\'s password, or A acting for B (authzid): 535 5.7.8, the same answer as a wrong password', async () => {
  const client = await submission('submissions', false);
  const attempts = [
    `AUTH PLAIN ${plain('', bob.login, alice.password)}`,
    `AUTH PLAIN ${plain(bob.login, alice.login, alice.password)}`,
    `AUTH PLAIN ${plain(alice.login, bob.login, alice.password)}`,
    `AUTH PLAIN ${plain('', 'robert@example.com', alice.password)}`,
    `AUTH PLAIN ${plain('', 'bob', alice.password)}`,
  ];
  for (const command of attempts) assert.equal(last(await client.smtp(command)), '535 5.7.8 Authentication credentials invalid', command);
  assert.match(await client.smtp('AUTH LOGIN'), /^334 /m);
  assert.match(await client.smtp(Buffer.from(bob.login).toString('base64')), /^334 /m);
  assert.equal(last(await client.smtp(Buffer.from(alice.password).toString('base64'))), '535 5.7.8 Authentication credentials invalid');
  // Still unauthenticated: nothing can be sent.
  assert.match(last(await client.smtp('MAIL FROM:<bob@example.com>')), /^530 /);
  await client.smtp('QUIT');
});

test('RCPT, VRFY and EXPN reveal no more than they must: no alias targets, no account details, VRFY the same for everyone', async () => {
  const mx = await LineClient.connect(suite.running.server.smtp.listeners.mx!.port, false);
  suite.clients.push(mx);
  await mx.smtp('EHLO client.example.org');
  assert.match(await mx.smtp('STARTTLS'), /^220 /m);
  await mx.upgrade();
  await mx.smtp('EHLO client.example.org');
  const vrfy = [last(await mx.smtp('VRFY bob@example.com')), last(await mx.smtp('VRFY nobody@example.com')), last(await mx.smtp('VRFY bob'))];
  assert.equal(new Set(vrfy.map((reply) => reply.replace(/<[^>]*>|\S+@\S+/g, 'ADDRESS'))).size, 1, `VRFY answers differ: ${vrfy.join(' | ')}`);
  // RFC 5321 §3.5.3: 252, "cannot verify but will accept", for everyone; EXPN is not offered at all.
  assert.match(vrfy[0]!, /^252 /);
  assert.match(last(await mx.smtp('EXPN robert@example.com')), /^500 5\.5\.2 /);
  assert.match(last(await mx.smtp('MAIL FROM:<someone@example.org>')), /^250 /);
  const known = last(await mx.smtp('RCPT TO:<robert@example.com>'));
  assert.match(known, /^250 /);
  const unknown = last(await mx.smtp('RCPT TO:<nobody@example.com>'));
  assert.match(unknown, /^550 5\.1\.1 /);
  assert.match(last(await mx.smtp('RCPT TO:<bob@example.org>')), /^5\d\d 5\.7\.1 /, 'no relaying');
  await mx.smtp('QUIT');

  const client = await submission('submission');
  assert.match(last(await client.smtp('MAIL FROM:<alice@example.com>')), /^250 /);
  assert.match(last(await client.smtp('RCPT TO:<robert@example.com>')), /^250 /);
  assert.match(last(await client.smtp('VRFY robert@example.com')), /^252 /);
  await client.smtp('QUIT');

  for (const session of [mx, client]) {
    // An alias's reply never names the account behind it; no reply names B's mailboxes or quota.
    assert.ok(!session.transcript.includes(bob.login), `a reply named ${bob.login}: ${session.transcript}`);
    assert.doesNotMatch(session.transcript, /quota|Bob-Private|INBOX/i);
  }
});

test('afterwards: nothing of B\'s changed, nothing was queued, A received nothing of B\'s', async () => {
  assert.deepEqual(await snapshotAccount(suite.running.server.store, bob.login), suite.bobBefore);
  assert.deepEqual(await suite.running.server.store.outbound.list(), []);
  const received = suite.clients.map((client) => client.transcript).join('');
  for (const secret of [...Object.values(bobSecrets), ...suite.running.bobIdentifiers]) assert.ok(!received.includes(secret), `A received ${secret}`);
});

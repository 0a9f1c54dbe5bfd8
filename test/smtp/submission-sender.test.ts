// Submission's From:/Sender: check through the real STARTTLS listener (issue 11
// item 6): logged in as alice, every header that names someone else in a way
// some parser reads is refused at the final dot, nothing reaches bob's INBOX,
// and the same session can still send with a clean From:.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LineClient } from '../server/tls-harness.js';
import { password, startHarness, type Harness } from './smtp-harness.js';

let harness: Harness;

before(async () => {
  harness = await startHarness();
});

after(async () => harness.close());

async function session(): Promise<LineClient> {
  const client = await LineClient.connect(harness.submissionPort, false);
  await client.smtp('EHLO client.example.org');
  assert.match(await client.smtp('STARTTLS'), /^220 /m);
  await client.upgrade();
  await client.smtp('EHLO client.example.org');
  const plain = Buffer.from(`\0alice@example.com\0${password}`).toString('base64');
  assert.match(await client.smtp(`AUTH PLAIN ${plain}`), /^235 /m);
  return client;
}

/** One transaction to bob; `header` is sent byte for byte (dot-stuffed), the final reply returned. */
async function send(client: LineClient, header: Buffer): Promise<string> {
  assert.match(await client.smtp('MAIL FROM:<alice@example.com>'), /^250 /m);
  assert.match(await client.smtp('RCPT TO:<bob@example.com>'), /^250 /m);
  assert.match(await client.smtp('DATA'), /^354 /m);
  const message = Buffer.concat([header, Buffer.from('Subject: check\r\n\r\nbody\r\n')]);
  client.write(Buffer.from(message.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1'));
  return client.smtp('.');
}

async function bobInbox(): Promise<number> {
  const bob = await harness.store.account('bob@example.com');
  return (await bob.getMailbox('INBOX')).messages;
}

const refused: [string, RegExp][] = [
  ['From: Bob [<bob@example.com>] <alice@example.com>\r\n', /^553 5\.7\.1 /m],
  ['From: "Alice" <alice@example.com>, Bob <bob@example.com\r\n', /^553 5\.7\.1 /m],
  ['From: Friends: alice@example.com, bob@example.com;\r\n', /^553 5\.7\.1 /m],
  ['From: alice@example.com <bob@example.com>\r\n', /^553 5\.7\.1 /m],
  ['From: Alice\xa0<bob@example.com>\r\n', /^553 5\.7\.1 /m],
  ['From: alice@example.com\r\nX-Hidden: a\rFrom: bob@example.com\r\n', /^553 5\.7\.1 /m],
  ['From: alice@example.com\r\nSender: bob@example.com\r\n', /^553 5\.7\.1 /m],
  ['From: alice@example.com\r\nFrom: bob@example.com\r\n', /^550 5\.6\.0 /m],
  [`From: ${Array.from({ length: 1000 }, () => 'alice@example.com').join(',\r\n ')},\r\n bob@example.com\r\n`, /^553 5\.7\.1 /m],
];

test('hostile From:/Sender: forms are refused at the final dot and nothing is delivered; a clean From: then goes through', async () => {
  const client = await session();
  try {
    const before = await bobInbox();
    for (const [header, expected] of refused) {
      const reply = await send(client, Buffer.from(header, 'latin1'));
      assert.match(reply, expected, `${JSON.stringify(header.slice(0, 120))}: ${reply}`);
    }
    assert.equal(await bobInbox(), before, 'nothing refused was delivered');
    const clean = `From: Alice <alice@example.com>,\r\n Postmaster <postmaster@example.com>\r\nSender: alice@example.com\r\n`;
    assert.match(await send(client, Buffer.from(clean)), /^250 /m);
    assert.equal(await bobInbox(), before + 1);
  } finally {
    client.close();
  }
});

// The selected mailbox's view against changes by other sessions (src/imap/session.ts):
// a message appended and expunged elsewhere between two of this session's updates was
// never announced, so no EXPUNGE or VANISHED may name it (RFC 9051 §7.5.1: an EXPUNGE's
// number is one the client knows; RFC 7162 §3.2.10 for VANISHED). imaptest's stress mode
// reported such numbers as "seq too high".
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { RawClient, startTestServer, type TestServer } from './server-harness.js';

function message(index: number): Buffer {
  return Buffer.from(`From: a@example.org\r\nSubject: view ${index}\r\nMessage-ID: <view-${index}@example.org>\r\n\r\nbody ${index}\r\n`);
}

/** A server whose INBOX holds UIDs 1 and 2, and a logged-in client; both stopped after the test. */
async function twoMessagesLoggedIn(t: TestContext): Promise<{ server: TestServer; client: RawClient }> {
  const server = await startTestServer();
  t.after(() => server.stop());
  for (const index of [1, 2]) await server.account.append('INBOX', message(index));
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  return { server, client };
}

async function appendAndExpungeElsewhere(server: TestServer): Promise<void> {
  const inbox = await server.account.getMailbox('INBOX');
  // UID 3 arrives and goes while the client looks away; UID 1, which it knows, goes too.
  const appended = await server.account.append('INBOX', message(3));
  assert.equal(appended.uid, 3);
  await server.account.updateFlags(inbox.id, [[1, 1], [3, 3]], { mode: 'add', flags: ['\\Deleted'] });
  const result = await server.account.expunge(inbox.id);
  assert.deepEqual(result.uids, [1, 3]);
}

test('a message appended and expunged by another session between updates gets no EXPUNGE', async (t) => {
  const { server, client } = await twoMessagesLoggedIn(t);
  assert.match(await client.command('s1', 'SELECT INBOX'), /^\* 2 EXISTS/m);
  await appendAndExpungeElsewhere(server);
  const noop = await client.command('s2', 'NOOP');
  assert.match(noop, /^\* 1 EXPUNGE\r\n/m);
  // Only the message the client knew: no number above 2, and no other EXPUNGE.
  assert.equal(noop.match(/EXPUNGE/g)?.length, 1, noop);
  assert.doesNotMatch(noop, /EXISTS/);
  const fetched = await client.command('s3', 'FETCH 1:* (UID)');
  assert.match(fetched, /^\* 1 FETCH \(UID 2\)\r\ns3 OK/m);
});

test('with QRESYNC, VANISHED names only UIDs the client was told of', async (t) => {
  const { server, client } = await twoMessagesLoggedIn(t);
  assert.match(await client.command('q1', 'ENABLE QRESYNC'), /q1 OK/);
  assert.match(await client.command('q2', 'SELECT INBOX'), /^\* 2 EXISTS/m);
  await appendAndExpungeElsewhere(server);
  const noop = await client.command('q3', 'NOOP');
  assert.match(noop, /^\* VANISHED 1\r\n/m);
  assert.doesNotMatch(noop, /EXISTS|EXPUNGE/);
  assert.match(await client.command('q4', 'UID FETCH 1:* (UID)'), /^\* 1 FETCH \(UID 2\)\r\nq4 OK/m);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleMessage } from '../helpers/temporary-store.js';
import { imapflow, RawClient, startTestServer } from './server-harness.js';

test('imapflow: APPEND with APPENDUID, FETCH, STORE, COPY and MOVE with COPYUID, EXPUNGE', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = imapflow(server);
  await client.connect();
  t.after(() => client.close());
  const first = await client.append('INBOX', sampleMessage({ subject: 'First' }), ['\\Flagged'], new Date('2026-11-01T12:00:00Z'));
  assert.ok(first);
  assert.equal(first.uid, 1);
  assert.ok(first.uidValidity);
  await client.append('INBOX', sampleMessage({ subject: 'Second' }));
  await client.append('INBOX', sampleMessage({ subject: 'Third' }));

  const lock = await client.getMailboxLock('INBOX');
  try {
    assert.equal(client.mailbox && client.mailbox.exists, 3);
    const messages = [];
    for await (const message of client.fetch('1:*', { uid: true, flags: true, envelope: true, internalDate: true, size: true, bodyStructure: true, emailId: true, threadId: true })) messages.push(message);
    assert.deepEqual(messages.map((message) => message.envelope?.subject), ['First', 'Second', 'Third']);
    assert.ok(messages[0]!.flags?.has('\\Flagged'));
    assert.equal(new Date(messages[0]!.internalDate!).toISOString(), '2026-11-01T12:00:00.000Z');
    assert.equal(messages[0]!.envelope?.from?.[0]?.address, 'bob@example.org');
    assert.equal(messages[0]!.bodyStructure?.type, 'text/plain');
    assert.ok(messages[0]!.emailId && messages[0]!.threadId);

    // imapflow reads the source with BODY.PEEK[], which leaves \Seen alone.
    const source = await client.fetchOne('2', { source: true, flags: true });
    assert.ok(source && source.source?.toString().includes('Subject: Second'));
    const after = await client.fetchOne('2', { flags: true });
    assert.ok(after && !after.flags?.has('\\Seen'));

    assert.equal(await client.messageFlagsAdd('1:2', ['\\Deleted', 'custom']), true);
    const flagged = await client.fetchOne('1', { flags: true });
    assert.ok(flagged && flagged.flags?.has('custom') && flagged.flags.has('\\Deleted'));

    const copied = await client.messageCopy('3', 'Archive');
    assert.ok(copied);
    assert.equal(copied.destination, 'Archive');
    assert.deepEqual([...(copied.uidMap ?? new Map())], [[3, 1]]);

    const moved = await client.messageMove('3', 'Trash');
    assert.ok(moved);
    assert.deepEqual([...(moved.uidMap ?? new Map())], [[3, 1]]);
    assert.equal(client.mailbox && client.mailbox.exists, 2);

    assert.equal(await client.messageDelete('1:*'), true);
    assert.equal(client.mailbox && client.mailbox.exists, 0);
  } finally {
    lock.release();
  }
  const trash = await client.status('Trash', { messages: true });
  assert.ok(trash);
  assert.equal(trash.messages, 1);
});

test('two sessions on one mailbox see each other\'s changes; IDLE hears of a new message', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await server.account.append('INBOX', sampleMessage({ subject: 'one' }));
  await server.account.append('INBOX', sampleMessage({ subject: 'two' }));
  const watcher = await RawClient.connect(server);
  const actor = await RawClient.connect(server);
  t.after(() => {
    watcher.close();
    actor.close();
  });
  await watcher.login();
  await actor.login();
  assert.match(await watcher.command('w1', 'SELECT INBOX'), /^\* 2 EXISTS/m);
  assert.match(await actor.command('a1', 'SELECT INBOX'), /^\* 2 EXISTS/m);

  assert.match(await actor.command('a2', 'STORE 1 +FLAGS (\\Flagged)'), /^\* 1 FETCH \(FLAGS \((\\Recent )?\\Flagged\)\)/m);
  assert.match(await watcher.command('w2', 'NOOP'), /^\* 1 FETCH \(UID 1 FLAGS \((\\Recent )?\\Flagged\)\)\r\nw2 OK/m);

  // EXPUNGE is held back during FETCH and delivered at the next NOOP (RFC 9051 §7.5.1).
  await actor.command('a3', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
  assert.match(await actor.command('a4', 'EXPUNGE'), /^\* 2 EXPUNGE\r\na4 OK/m);
  const during = await watcher.command('w3', 'FETCH 1:* (UID)');
  assert.doesNotMatch(during, /EXPUNGE/);
  // The expunged message is still numbered 2 here; the store no longer has it, so it is left out.
  assert.match(during, /^\* 1 FETCH \(UID 1\)/m);
  assert.match(await watcher.command('w4', 'NOOP'), /^\* 2 EXPUNGE\r\nw4 OK/m);

  // IDLE: a message delivered while idling is announced without any command.
  watcher.write('w5 IDLE\r\n');
  await watcher.readUntil(/^\+ idling\r\n/m);
  watcher.take();
  await server.store.deliver(sampleMessage({ subject: 'three' }), [{ login: server.account.login }]);
  await watcher.readUntil(/^\* 2 EXISTS\r\n/m);
  watcher.write('DONE\r\n');
  assert.match(await watcher.response('w5'), /w5 OK/);
  assert.match(await actor.command('a5', 'NOOP'), /^\* 2 EXISTS\r\n/m);
});

test('imapflow IDLE is told of an append by another session', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = imapflow(server);
  await client.connect();
  t.after(() => client.close());
  await client.mailboxOpen('INBOX');
  const exists = new Promise<number>((resolve) => client.on('exists', (event: { count: number }) => resolve(event.count)));
  const idling = client.idle();
  const other = imapflow(server);
  await other.connect();
  t.after(() => other.close());
  await other.append('INBOX', sampleMessage());
  assert.equal(await exists, 1);
  void idling;
});

test('STORE UNCHANGEDSINCE answers MODIFIED for a message changed since', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await server.account.append('INBOX', sampleMessage());
  await server.account.append('INBOX', sampleMessage());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  const selected = await client.command('s1', 'SELECT INBOX (CONDSTORE)');
  const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(selected)![1]);
  await client.command('s2', 'STORE 2 +FLAGS (\\Seen)');
  const reply = await client.command('s3', `STORE 1:2 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Answered)`);
  assert.match(reply, /^\* 1 FETCH \(FLAGS \((\\Recent )?\\Answered\) MODSEQ \(\d+\)\)/m);
  assert.match(reply, /^s3 OK \[MODIFIED 2\]/m);
  assert.match(await client.command('s4', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq})`), /^\* 1 FETCH \(UID 1 FLAGS \((\\Recent )?\\Answered\) MODSEQ \(\d+\)\)\r\n\* 2 FETCH \(UID 2 FLAGS \((\\Recent )?\\Seen\) MODSEQ/m);
  assert.match(await client.command('s5', 'UID EXPUNGE 1'), /s5 OK/);
  assert.match(await client.command('s6', 'EXAMINE INBOX'), /^\* OK \[CLOSED\][^\r]*\r\n[\s\S]*s6 OK \[READ-ONLY\]/m);
  assert.match(await client.command('s7', 'STORE 1 +FLAGS (\\Seen)'), /s7 NO \[READ-ONLY\]/);
  assert.match(await client.command('s8', 'UNSELECT'), /s8 OK/);
});

test('QRESYNC: SELECT with known state gets VANISHED (EARLIER) and changed FLAGS; expunges come as VANISHED', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  for (let index = 0; index < 5; index++) await server.account.append('INBOX', sampleMessage());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  assert.match(await client.command('q1', 'ENABLE QRESYNC'), /^\* ENABLED QRESYNC\r\n/m);
  const selected = await client.command('q2', 'SELECT INBOX');
  const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(selected)![1]);
  const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(selected)![1]);
  await client.command('q3', 'UNSELECT');

  // Another session expunges 2 and 4 and flags 5 while this client is away.
  const other = await RawClient.connect(server);
  t.after(() => other.close());
  await other.login();
  await other.command('o1', 'SELECT INBOX');
  await other.command('o2', 'STORE 2,4 +FLAGS.SILENT (\\Deleted)');
  await other.command('o3', 'EXPUNGE');
  await other.command('o4', 'UID STORE 5 +FLAGS.SILENT (\\Flagged)');

  const resync = await client.command('q4', `SELECT INBOX (QRESYNC (${uidValidity} ${modseq} 1:5))`);
  assert.match(resync, /^\* 3 EXISTS\r\n/m);
  assert.match(resync, /^\* VANISHED \(EARLIER\) 2,4\r\n/m);
  assert.match(resync, /^\* 3 FETCH \(UID 5 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r\n/m);
  assert.match(await client.command('q5', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`), /^\* VANISHED \(EARLIER\) 2,4\r\n\* 3 FETCH \(UID 5 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r\nq5 OK/m);

  await other.command('o5', 'UID STORE 1 +FLAGS.SILENT (\\Deleted)');
  await other.command('o6', 'EXPUNGE');
  assert.match(await client.command('q6', 'NOOP'), /^\* VANISHED 1\r\n/m);
  assert.match(await client.command('q7', 'UID STORE 3 +FLAGS.SILENT (\\Deleted)'), /q7 OK/);
  assert.match(await client.command('q8', 'EXPUNGE'), /^\* VANISHED 3\r\nq8 OK/m);
});

test('a sequence number past the messages the client knows is BAD; a UID past them names nothing', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await server.account.append('INBOX', sampleMessage({ subject: 'one' }));
  await server.account.append('INBOX', sampleMessage({ subject: 'two' }));
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('s1', 'SELECT INBOX');
  // RFC 9051 §9: seq-number runs from 1 to the number of messages.
  assert.match(await client.command('f1', 'FETCH 3 FLAGS'), /^f1 BAD /m);
  assert.match(await client.command('f2', 'STORE 2:5 +FLAGS (\\Seen)'), /^f2 BAD /m);
  assert.doesNotMatch(await client.command('f3', 'FETCH 1 FLAGS'), /\\Seen/);
  assert.match(await client.command('f4', 'FETCH 2:* FLAGS'), /^\* 2 FETCH[^\r]*\r\nf4 OK/m);
  assert.match(await client.command('f5', 'UID FETCH 3:9 FLAGS'), /^f5 OK/m);
  // A SEARCH key only filters: a number past the end matches nothing.
  assert.match(await client.command('f6', 'SEARCH 2:7'), /^\* SEARCH 2\r\nf6 OK/m);
});

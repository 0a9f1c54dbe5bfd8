// A message row edited behind the store's back (raw SQL from another connection,
// as an outside process or a bad disk write would): the store checks every row's
// checksum before serving or acting on it, so the edited flags, UID or blob hash
// are never served — not through fetch(), IMAP FETCH FLAGS (which ends in NO
// [UNAVAILABLE]) or SEARCH — and no flag change, COPY or EXPUNGE acts on the edited
// row. Each refusal logs `integrity.record_mismatch`.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { RecordWithheld } from '../../src/errors.js';
import { databaseFileName } from '../../src/store/sqlite/sqlite-store.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';
import { RawClient, startTestServer, type TestServer } from '../imap/server-harness.js';
import { imapPasswordHash, readThroughImap } from './imap-reads.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function behindTheBack(dataDir: string, sql: string, ...parameters: unknown[]): void {
  const database = new Database(path.join(dataDir, databaseFileName));
  try {
    database.pragma('busy_timeout = 10000');
    database.prepare(sql).run(...parameters);
  } finally {
    database.close();
  }
}

async function storeWithMessages(temporary: TemporaryStore, count: number) {
  const appended: Awaited<ReturnType<typeof temporary.account.append>>[] = [];
  for (let index = 0; index < count; index++) appended.push(await temporary.account.append('INBOX', sampleMessage(), { flags: ['\\Seen'] }));
  await temporary.store.context.commit.idle();
  return appended;
}

const mismatches = (temporary: TemporaryStore) => temporary.log.events.filter((event) => event.event === 'integrity.record_mismatch');

test('fetch() withholds an edited record, and no flag change, copy or expunge acts on it', async () => {
  const temporary = await createTemporaryStore();
  cleanups.push(() => temporary.dispose());
  const [first, second, third] = await storeWithMessages(temporary, 3);
  const inbox = first!.mailboxId;
  behindTheBack(temporary.dataDir, "UPDATE messages SET flags = '\\Deleted \\Flagged' WHERE uid = ?", second!.uid);
  behindTheBack(temporary.dataDir, 'UPDATE messages SET uid = uid + 1000 WHERE uid = ?', third!.uid);

  const records = await temporary.account.fetch(inbox, { uids: [[1, Infinity]] });
  assert.deepEqual(records.map((record) => record.uid), [first!.uid], 'only the untouched record is served');
  assert.deepEqual(mismatches(temporary).map((event) => event.fields.uid).sort(), [second!.uid, third!.uid + 1000].sort());
  assert.deepEqual(await temporary.account.fetch(inbox, { uids: [[second!.uid, second!.uid]] }), []);
  await assert.rejects(temporary.account.readMessage(inbox, second!.uid), /failed verification/);

  // A flag change would give the edited row a fresh, valid checksum: it is left alone.
  const stored = await temporary.account.updateFlags(inbox, [[1, Infinity]], { mode: 'add', flags: ['$Important'] });
  assert.deepEqual(stored.updated.map((entry) => entry.uid), [first!.uid]);
  // EXPUNGE must not remove a message because an edit set \Deleted on it.
  assert.deepEqual((await temporary.account.expunge(inbox)).uids, []);
  // COPY is all or nothing (RFC 9051 §6.4.7): a withheld record among the messages refuses it whole.
  await assert.rejects(temporary.account.copy(inbox, [[1, Infinity]], 'Archive'), RecordWithheld);
  assert.equal((await temporary.account.getMailbox('Archive')).messages, 0);
  const copied = await temporary.account.copy(inbox, [[first!.uid, first!.uid]], 'Archive');
  assert.deepEqual(copied.pairs.map((pair) => pair.source), [first!.uid]);
  const raw = temporary.store.context.db.prepare('SELECT uid, flags FROM messages WHERE mailbox_id = (SELECT mailbox_id FROM messages WHERE uid = ?) ORDER BY uid').all(second!.uid) as { uid: number; flags: string }[];
  assert.deepEqual(raw.find((row) => row.uid === second!.uid)?.flags, '\\Deleted \\Flagged', 'the edited row is still there for audit --repair');
});

test('IMAP: FETCH FLAGS, SEARCH and EXPUNGE never show or act on an edited record', async () => {
  const server: TestServer = await startTestServer();
  cleanups.push(() => server.stop());
  const [first, second] = await storeWithMessages(server, 2);
  const client = await RawClient.connect(server);
  cleanups.push(async () => client.close());
  await client.login();
  assert.match(await client.command('S1', 'SELECT INBOX'), /\* 2 EXISTS/);
  // Edited while the mailbox is selected: the session already numbers UID 2.
  behindTheBack(server.dataDir, "UPDATE messages SET flags = '\\Deleted \\Flagged' WHERE uid = ?", second!.uid);
  const fetched = await client.command('F1', 'UID FETCH 1:* (FLAGS)');
  assert.match(fetched, new RegExp(`UID ${first!.uid} FLAGS \\((\\\\Recent )?\\\\Seen\\)`));
  assert.doesNotMatch(fetched, /\\Deleted|\\Flagged/, 'the edited flags are not served');
  assert.doesNotMatch(fetched, new RegExp(`UID ${second!.uid}\\b`));
  assert.match(fetched, /F1 NO \[UNAVAILABLE\]/);
  const searched = await client.command('S2', 'UID SEARCH DELETED');
  assert.match(searched, /\* SEARCH\r\n/, 'the edited \\Deleted matches nothing');
  assert.match(await client.command('S3', 'UID SEARCH ALL'), new RegExp(`\\* SEARCH ${first!.uid}\\r\\n`));
  const body = await client.command('F2', `UID FETCH ${second!.uid} BODY.PEEK[]`);
  // Withheld by the store: no FETCH response, and the command says why.
  assert.match(body, /^F2 NO \[UNAVAILABLE\]/);
  assert.doesNotMatch(body, /\* \d+ FETCH|Hello number/);
  await client.command('E1', 'EXPUNGE');
  assert.equal((server.store.context.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n, 2, 'EXPUNGE removed nothing');
  assert.ok(mismatches(server).length > 0);

  // A fresh session numbers the edited record too (it is still a message of the mailbox), and never serves it.
  const fresh = await RawClient.connect(server);
  cleanups.push(async () => fresh.close());
  await fresh.login();
  assert.match(await fresh.command('S4', 'SELECT INBOX'), /\* 2 EXISTS/);
  assert.match(await fresh.command('F3', `UID FETCH ${second!.uid} (FLAGS)`), /^F3 NO \[UNAVAILABLE\]/);
});

test('the campaign’s IMAP reader counts wrong bytes, edited flags and a message under a foreign UID', async () => {
  const temporary = await createTemporaryStore();
  cleanups.push(() => temporary.dispose());
  await temporary.store.admin.setPasswordHash('alice@example.com', await imapPasswordHash());
  const messages = [sampleMessage(), sampleMessage()];
  const appended: Awaited<ReturnType<typeof temporary.account.append>>[] = [];
  for (const bytes of messages) appended.push(await temporary.account.append('INBOX', bytes, { flags: ['\\Seen'] }));
  const expected = messages.map((bytes, index) => ({ mailboxName: 'INBOX', uid: appended[index]!.uid, flags: ['\\Seen'], bytes }));
  assert.deepEqual(await readThroughImap(temporary.store, temporary.log, expected), { bad: 0, bodies: 2, unavailable: 0 });
  // The same answers held to wrong expectations: each difference counts once.
  const flipped = Buffer.from(messages[0]!);
  flipped[5]! ^= 1;
  const wrong = [
    { ...expected[0]!, bytes: flipped, flags: ['\\Seen', '\\Flagged'] },
    // The second message, expected under a UID it does not have: served under its own, it counts.
    { ...expected[1]!, uid: 99 },
  ];
  assert.deepEqual(await readThroughImap(temporary.store, temporary.log, wrong), { bad: 3, bodies: 2, unavailable: 0 });
});

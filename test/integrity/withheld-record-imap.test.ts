// A record withheld for a bad checksum before the mailbox was selected (a damaged
// page, an edit behind the store's back): it keeps its place in the mailbox, and
// every command that names it says NO [UNAVAILABLE], as for a message whose blob
// failed verification — FETCH and UID FETCH (never OK with nothing in it), STORE
// (the others are updated), COPY and MOVE (refused whole, RFC 9051 §6.4.7); SEARCH
// warns with an untagged NO [UNAVAILABLE].
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { databaseFileName } from '../../src/store/sqlite/sqlite-store.js';
import { sampleMessage } from '../helpers/temporary-store.js';
import { RawClient, startTestServer } from '../imap/server-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

test('FETCH, UID FETCH, STORE, COPY and MOVE of a withheld record answer NO [UNAVAILABLE]', async () => {
  const server = await startTestServer();
  cleanups.push(() => server.stop());
  const appended = [];
  for (let index = 0; index < 3; index++) appended.push(await server.account.append('INBOX', sampleMessage(), { flags: index === 2 ? [] : ['\\Seen'] }));
  await server.store.context.commit.idle();
  const withheld = appended[1]!.uid;
  const database = new Database(path.join(server.dataDir, databaseFileName));
  database.prepare("UPDATE messages SET flags = '\\Flagged' WHERE uid = ?").run(withheld);
  database.close();

  const client = await RawClient.connect(server);
  cleanups.push(async () => client.close());
  await client.login();
  const selected = await client.command('S1', 'SELECT INBOX');
  assert.match(selected, /\* 3 EXISTS/);
  assert.match(selected, /\* OK \[UNSEEN 3\]/, 'the first unseen message numbered in the view that counts the withheld one');

  let reply = await client.command('F1', `UID FETCH ${withheld} (FLAGS)`);
  assert.match(reply, /^F1 NO \[UNAVAILABLE\]/, reply);
  assert.doesNotMatch(reply, /\\Flagged/);
  reply = await client.command('F2', 'FETCH 2 (BODY.PEEK[])');
  assert.match(reply, /^F2 NO \[UNAVAILABLE\]/, reply);
  reply = await client.command('F3', 'FETCH 1:* (UID FLAGS)');
  assert.equal((reply.match(/^\* \d+ FETCH/gm) ?? []).length, 2, reply);
  assert.match(reply, /F3 NO \[UNAVAILABLE\] 1 message\(s\) unavailable/);

  // SEARCH cannot look at it: it matches nothing, and an untagged NO (a warning, RFC 9051 §7.1.2) says so.
  reply = await client.command('R1', 'UID SEARCH ALL');
  assert.match(reply, /^\* NO \[UNAVAILABLE\] 1 message\(s\) could not be searched/m, reply);
  assert.match(reply, new RegExp(`^\\* SEARCH ${appended[0]!.uid} ${appended[2]!.uid}\r$`, 'm'), reply);
  assert.match(reply, /^R1 OK/m);

  reply = await client.command('T1', 'STORE 1:3 +FLAGS (\\Answered)');
  assert.equal((reply.match(/^\* \d+ FETCH/gm) ?? []).length, 2, reply);
  assert.match(reply, /T1 NO \[UNAVAILABLE\]/, reply);
  const reader = new Database(path.join(server.dataDir, databaseFileName), { readonly: true });
  const row = reader.prepare('SELECT flags FROM messages WHERE uid = ?').get(withheld) as { flags: string };
  reader.close();
  assert.equal(row.flags, '\\Flagged', 'the withheld row was not touched');

  reply = await client.command('C1', 'COPY 1:3 Archive');
  assert.match(reply, /^C1 NO \[UNAVAILABLE\]/, reply);
  reply = await client.command('M1', 'UID MOVE 1:* Archive');
  assert.match(reply, /^M1 NO \[UNAVAILABLE\]/, reply);
  assert.equal((await server.account.getMailbox('Archive')).messages, 0, 'COPY and MOVE did nothing');
  assert.equal((await server.account.getMailbox('INBOX')).messages, 3);
  // Without the withheld record they work as usual.
  assert.match(await client.command('C2', `UID COPY ${appended[0]!.uid} Archive`), /C2 OK \[COPYUID/);
});

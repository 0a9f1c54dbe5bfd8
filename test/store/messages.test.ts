import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { InvalidInput, NotFound } from '../../src/errors.js';
import type { Change } from '../../src/store/types.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore()));
afterEach(() => fixture.dispose());

test('append stores the exact bytes with flags, dates and ascending UIDs', async () => {
  const message = sampleMessage();
  const date = new Date('2025-03-04T05:06:07Z');
  const first = await fixture.account.append('INBOX', message, { flags: ['\\seen', 'Work'], internalDate: date });
  const second = await fixture.account.append('INBOX', sampleMessage());
  assert.equal(first.uid, 1);
  assert.equal(second.uid, 2);
  assert.ok(second.modseq > first.modseq);
  const [record] = await fixture.account.fetch(first.mailboxId, { uids: [[1, 1]], withStructure: true });
  assert.deepEqual(record!.flags, ['Work', '\\Seen']);
  assert.equal(record!.internalDate.getTime(), date.getTime());
  assert.equal(record!.size, message.length);
  assert.equal(record!.structure!.envelope.subject, message.toString().match(/Subject: (.*)\r/)![1]);
  assert.deepEqual(await fixture.account.readMessage(first.mailboxId, 1), message);
  const chunks: Buffer[] = [];
  for await (const chunk of await fixture.account.openMessage(first.mailboxId, 1)) chunks.push(chunk as Buffer);
  assert.deepEqual(Buffer.concat(chunks), message);
  const mailbox = await fixture.account.getMailbox('INBOX');
  assert.equal(mailbox.uidNext, 3);
  assert.equal(mailbox.messages, 2);
  assert.equal(mailbox.unseen, 1);
  assert.equal(mailbox.size, message.length + (await fixture.account.readMessage(first.mailboxId, 2)).length);
});

test('append takes a stream and refuses unknown mailboxes, bad flags and oversize messages', async () => {
  async function* chunks() {
    yield Buffer.from('Subject: streamed\r\n\r\n');
    yield Buffer.from('body\r\n');
  }
  const result = await fixture.account.append('INBOX', chunks());
  assert.equal((await fixture.account.readMessage(result.mailboxId, result.uid)).toString(), 'Subject: streamed\r\n\r\nbody\r\n');
  await assert.rejects(fixture.account.append('Nowhere', sampleMessage()), NotFound);
  await assert.rejects(fixture.account.append('INBOX', sampleMessage(), { flags: ['\\Recent'] }), InvalidInput);
  await assert.rejects(fixture.account.append('INBOX', sampleMessage(), { flags: ['bad word'] }), InvalidInput);
  await assert.rejects(fixture.account.append('INBOX', sampleMessage({ size: 5000 }), { maxSize: 1000 }), /larger than the limit/);
  assert.equal((await fixture.account.getMailbox('INBOX')).messages, 1, 'refused appends leave nothing behind');
});

test('identical messages share one blob; EMAILID and THREADID follow RFC 8474', async () => {
  const message = sampleMessage({ messageId: '<root@example.org>' });
  const a = await fixture.account.append('INBOX', message);
  const b = await fixture.account.append('Archive', message);
  assert.equal(a.blobHash, b.blobHash);
  assert.notEqual(a.emailId, b.emailId);
  const reply = await fixture.account.append('INBOX', sampleMessage({ inReplyTo: '<root@example.org>' }));
  assert.equal(reply.threadId, a.threadId, 'a reply joins the thread it refers to');
  const unrelated = await fixture.account.append('INBOX', sampleMessage());
  assert.notEqual(unrelated.threadId, a.threadId);
  const copy = await fixture.account.copy(a.mailboxId, [[a.uid, a.uid]], 'Drafts');
  const [copied] = await fixture.account.fetch((await fixture.account.getMailbox('Drafts')).id, { uids: [[copy.pairs[0]!.destination, copy.pairs[0]!.destination]] });
  assert.equal(copied!.emailId, a.emailId);
  assert.equal(copied!.threadId, a.threadId);
});

test('fetch by UID set with * and by sequence numbers', async () => {
  const inbox = await fixture.account.getMailbox('INBOX');
  for (let index = 0; index < 6; index++) await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.updateFlags(inbox.id, [[2, 3]], { mode: 'add', flags: ['\\Deleted'] });
  await fixture.account.expunge(inbox.id);
  const uids = async (query: Parameters<typeof fixture.account.fetch>[1]) => (await fixture.account.fetch(inbox.id, query)).map((record) => record.uid);
  assert.deepEqual(await uids({ uids: [[1, Infinity]] }), [1, 4, 5, 6]);
  assert.deepEqual(await uids({ uids: [[Infinity, Infinity]] }), [6]);
  assert.deepEqual(await uids({ uids: [[100, Infinity]] }), [6], 'n:* includes the largest UID even when n is above it');
  assert.deepEqual(await uids({ uids: [[5, 1]] }), [1, 4, 5]);
  assert.deepEqual(await uids({ sequences: [[2, 3]] }), [4, 5]);
  assert.deepEqual(await uids({ sequences: [[Infinity, Infinity]] }), [6]);
  assert.deepEqual(await uids({ sequences: [[1, 1], [4, 4]] }), [1, 6]);
  assert.deepEqual(await uids({ sequences: [[9, 12]] }), []);
});

test('flag updates: add, remove, replace, UNCHANGEDSINCE and MODSEQ', async () => {
  const inbox = await fixture.account.getMailbox('INBOX');
  for (let index = 0; index < 3; index++) await fixture.account.append('INBOX', sampleMessage());
  const added = await fixture.account.updateFlags(inbox.id, [[1, 3]], { mode: 'add', flags: ['\\Flagged', 'Project'] });
  assert.equal(added.updated.length, 3);
  assert.ok(added.updated.every((update) => update.modseq === added.modseq));
  const removed = await fixture.account.updateFlags(inbox.id, [[2, 2]], { mode: 'remove', flags: ['project'] });
  assert.deepEqual(removed.updated[0]!.flags, ['\\Flagged']);
  const unchanged = await fixture.account.updateFlags(inbox.id, [[1, 1]], { mode: 'add', flags: ['\\Flagged'] });
  assert.equal(unchanged.updated.length, 0, 'no change, no new MODSEQ');
  const conditional = await fixture.account.updateFlags(inbox.id, [[1, 3]], { mode: 'replace', flags: ['\\Seen'], unchangedSince: added.modseq });
  assert.deepEqual(conditional.failed, [2], 'UID 2 changed after the given MODSEQ');
  assert.deepEqual(conditional.updated.map((update) => update.uid), [1, 3]);
  const records = await fixture.account.fetch(inbox.id, { uids: [[1, 3]] });
  assert.deepEqual(records.map((record) => record.flags), [['\\Seen'], ['\\Flagged'], ['\\Seen']]);
  const changed = await fixture.account.fetch(inbox.id, { uids: [[1, 3]], changedSince: removed.modseq });
  assert.deepEqual(changed.map((record) => record.uid), [1, 3]);
});

test('copy and move give COPYUID pairs; expunge removes only \\Deleted', async () => {
  const inbox = await fixture.account.getMailbox('INBOX');
  for (let index = 0; index < 4; index++) await fixture.account.append('INBOX', sampleMessage());
  const copied = await fixture.account.copy(inbox.id, [[2, 3]], 'Archive');
  assert.deepEqual(copied.pairs, [{ source: 2, destination: 1 }, { source: 3, destination: 2 }]);
  const moved = await fixture.account.move(inbox.id, [[1, 1], [4, 4]], 'Trash');
  assert.deepEqual(moved.pairs, [{ source: 1, destination: 1 }, { source: 4, destination: 2 }]);
  assert.deepEqual(moved.uids, [1, 4]);
  assert.equal((await fixture.account.getMailbox('INBOX')).messages, 2);
  await assert.rejects(fixture.account.move(inbox.id, [[2, 2]], 'INBOX'), InvalidInput);
  await assert.rejects(fixture.account.copy(inbox.id, [[2, 2]], 'Missing'), NotFound);
  await fixture.account.updateFlags(inbox.id, [[3, 3]], { mode: 'add', flags: ['\\Deleted'] });
  const none = await fixture.account.expunge(inbox.id, [[2, 2]]);
  assert.deepEqual(none.uids, []);
  const expunged = await fixture.account.expunge(inbox.id);
  assert.deepEqual(expunged.uids, [3]);
  const quota = await fixture.account.quota();
  assert.equal(quota.messages.used, 5, 'INBOX 1 + Archive 2 + Trash 2');
});

test('the change log and watchers see every change in order', async () => {
  const inbox = await fixture.account.getMailbox('INBOX');
  const seen: Change[] = [];
  const stop = fixture.account.watch((change) => seen.push(change));
  const start = inbox.highestModseq;
  const appended = await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.updateFlags(inbox.id, [[1, 1]], { mode: 'add', flags: ['\\Deleted'] });
  await fixture.account.expunge(inbox.id);
  stop();
  await fixture.account.append('INBOX', sampleMessage());
  const log = await fixture.account.changesSince(inbox.id, start);
  assert.deepEqual(log.slice(0, 3).map((change) => [change.kind, change.uid]), [['append', 1], ['flags', 1], ['expunge', 1]]);
  assert.deepEqual(seen.map((change) => [change.kind, change.uid]), [['append', 1], ['flags', 1], ['expunge', 1]]);
  assert.equal(seen[0]!.modseq, appended.modseq);
  for (let index = 1; index < log.length; index++) assert.ok(log[index]!.modseq > log[index - 1]!.modseq);
  assert.equal((await fixture.account.getMailbox('INBOX')).highestModseq, log[log.length - 1]!.modseq);
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { afterEach, beforeEach, test } from 'node:test';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore({ retentionDays: 7 })));
afterEach(() => fixture.dispose());

const day = 86_400_000;

test('undelete brings expunged messages back with new UIDs and their bytes', async () => {
  const inbox = await fixture.account.getMailbox('INBOX');
  const message = sampleMessage();
  await fixture.account.append('INBOX', message, { flags: ['\\Seen'] });
  await fixture.account.updateFlags(inbox.id, [[1, 1]], { mode: 'add', flags: ['\\Deleted'] });
  await fixture.account.expunge(inbox.id);
  assert.equal((await fixture.account.getMailbox('INBOX')).messages, 0);
  const { restored } = await fixture.store.admin.undelete('alice@example.com');
  assert.equal(restored, 1);
  const [record] = await fixture.account.fetch(inbox.id, { uids: [[1, Infinity]] });
  assert.equal(record!.uid, 2, 'a UID is never reused');
  assert.deepEqual(record!.flags, ['\\Seen'], 'kept flags, lost \\Deleted');
  assert.deepEqual(await fixture.account.readMessage(inbox.id, 2), message);
  assert.equal((await fixture.store.admin.undelete('alice@example.com')).restored, 0);
});

test('undelete recreates a deleted mailbox and can filter by mailbox', async () => {
  await fixture.account.createMailbox('Projects/Old');
  await fixture.account.append('Projects/Old', sampleMessage());
  await fixture.account.append('Sent', sampleMessage());
  const sent = await fixture.account.getMailbox('Sent');
  await fixture.account.updateFlags(sent.id, [[1, 1]], { mode: 'add', flags: ['\\Deleted'] });
  await fixture.account.expunge(sent.id);
  await fixture.account.deleteMailbox('Projects/Old');
  assert.equal((await fixture.store.admin.undelete('alice@example.com', { mailbox: 'Projects/Old' })).restored, 1);
  assert.equal((await fixture.account.getMailbox('Projects/Old')).messages, 1);
  assert.equal((await fixture.account.getMailbox('Sent')).messages, 0);
});

test('garbage collection keeps blobs within the retention window and removes them after', async () => {
  const inbox = await fixture.account.getMailbox('INBOX');
  const shared = sampleMessage();
  const kept = await fixture.account.append('INBOX', shared);
  await fixture.account.append('Archive', shared);
  const lone = await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.updateFlags(inbox.id, [[1, 2]], { mode: 'add', flags: ['\\Deleted'] });
  await fixture.account.expunge(inbox.id);
  const early = await fixture.store.admin.collectGarbage(new Date(Date.now() + 6 * day));
  assert.deepEqual(early, { expiredExpunges: 0, blobsRemoved: 0, bytesRemoved: 0 });
  const late = await fixture.store.admin.collectGarbage(new Date(Date.now() + 8 * day));
  assert.equal(late.expiredExpunges, 2);
  assert.equal(late.blobsRemoved, 1, 'only the blob no record references');
  assert.equal(await fixture.store.context.blobs.exists(lone.blobHash), false);
  assert.equal(await fixture.store.context.blobs.exists(kept.blobHash), true, 'still referenced from Archive');
  await fs.access(fixture.store.context.blobs.pathOf(kept.blobHash));
  assert.equal((await fixture.store.admin.undelete('alice@example.com')).restored, 0, 'past the window nothing comes back');
});

test('deleting an account releases its blobs', async () => {
  const appended = await fixture.account.append('INBOX', sampleMessage());
  await fixture.store.admin.deleteAccount('alice@example.com');
  const report = await fixture.store.admin.collectGarbage();
  assert.equal(report.blobsRemoved, 1);
  assert.equal(await fixture.store.context.blobs.exists(appended.blobHash), false);
});

// A failed fsync of the database log (the WAL) stops the store from
// acknowledging anything: Linux may drop the unsynced pages and let the next
// fsync succeed, so a later "durable" could rest on frames that never reached
// the disk. Every write after the failure is refused until a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreUnavailable } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { createTemporaryStore, sampleMessage } from '../helpers/temporary-store.js';

test('after a failed log fsync no write is acknowledged, even once fsync works again; a restart brings writes back', async (t) => {
  const fixture = await createTemporaryStore();
  t.after(() => fixture.dispose());
  const before = await fixture.account.append('INBOX', sampleMessage({ subject: 'before' }));

  const commit = fixture.store.context.commit;
  const realSync = commit.syncLog;
  commit.syncLog = async () => {
    throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  };
  await assert.rejects(fixture.account.append('INBOX', sampleMessage({ subject: 'during' })), StoreUnavailable);
  commit.syncLog = realSync;
  assert.equal(fixture.log.events.filter((event) => event.event === 'integrity.log_sync_failed').length, 1, 'the failure is logged once, as an integrity event');

  // The disk answers again, but what was lost cannot be known: still refused, and
  // so is every other kind of write (flags, mailboxes, deliveries).
  await assert.rejects(fixture.account.append('INBOX', sampleMessage({ subject: 'after' })), StoreUnavailable);
  await assert.rejects(fixture.account.createMailbox('Later'), StoreUnavailable);
  const delivered = await fixture.store.deliver(sampleMessage({ subject: 'delivered' }), [{ login: 'alice@example.com' }]).catch((error: Error) => error);
  assert.ok(delivered instanceof StoreUnavailable || (Array.isArray(delivered) && delivered.every((outcome) => !outcome.delivered && outcome.error instanceof StoreUnavailable)), `delivery was not refused: ${String(delivered)}`);

  // A restart opens the store afresh: the message acknowledged before is there, writes work.
  await fixture.store.close();
  const reopened = await openStore({ dataDir: fixture.dataDir, log: fixture.log });
  try {
    const account = await reopened.account('alice@example.com');
    const inbox = await account.getMailbox('INBOX');
    const records = await account.fetch(inbox.id, {});
    assert.ok(records.some((record) => record.uid === before.uid && record.blobHash === before.blobHash));
    const after = await account.append('INBOX', sampleMessage({ subject: 'after restart' }));
    assert.ok(after.uid > before.uid);
  } finally {
    await reopened.close();
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuotaExceeded } from '../../src/errors.js';
import { createTemporaryStore, sampleMessage } from '../helpers/temporary-store.js';

test('storage quota refuses the append that would exceed it, with a typed error', async () => {
  const fixture = await createTemporaryStore({ quotaBytes: 4000 });
  try {
    await fixture.account.append('INBOX', sampleMessage({ size: 1400 }));
    await fixture.account.append('INBOX', sampleMessage({ size: 1400 }));
    await assert.rejects(fixture.account.append('INBOX', sampleMessage({ size: 1400 })), (error: unknown) => error instanceof QuotaExceeded && error.resource === 'storage');
    const usage = await fixture.account.quota();
    assert.equal(usage.messages.used, 2);
    assert.equal(usage.storage.limit, 4000);
    assert.ok(usage.storage.used <= 4000);
    const inbox = await fixture.account.getMailbox('INBOX');
    await assert.rejects(fixture.account.copy(inbox.id, [[1, 2]], 'Archive'), QuotaExceeded);
    await fixture.account.move(inbox.id, [[1, 1]], 'Archive');
    assert.equal((await fixture.account.quota()).messages.used, 2, 'a move does not count twice');
  } finally {
    await fixture.dispose();
  }
});

test('message-count quota, and raising it lets mail in again', async () => {
  const fixture = await createTemporaryStore({ quotaMessages: 1 });
  try {
    await fixture.account.append('INBOX', sampleMessage());
    await assert.rejects(fixture.account.append('INBOX', sampleMessage()), (error: unknown) => error instanceof QuotaExceeded && error.resource === 'messages');
    await fixture.store.admin.setQuota('alice@example.com', { quotaMessages: null });
    await fixture.account.append('INBOX', sampleMessage());
    assert.equal((await fixture.account.quota()).messages.used, 2);
  } finally {
    await fixture.dispose();
  }
});

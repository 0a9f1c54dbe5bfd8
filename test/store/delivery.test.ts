import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { NotFound, QuotaExceeded } from '../../src/errors.js';
import type { Change } from '../../src/store/types.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore()));
afterEach(() => fixture.dispose());

async function* streamed(message: Buffer) {
  for (let offset = 0; offset < message.length; offset += 1000) yield message.subarray(offset, offset + 1000);
}

test('one stream, one blob, a record for every recipient; refusals stay per recipient', async () => {
  await fixture.store.admin.addAccount('bob@example.com', 'x');
  await fixture.store.admin.addAccount('full@example.com', 'x', { quotaMessages: 0 });
  const bob = await fixture.store.account('bob@example.com');
  const seen: Change[] = [];
  bob.watch((change) => seen.push(change));
  const message = sampleMessage({ size: 20_000 });
  const outcomes = await fixture.store.deliver(streamed(message), [
    { login: 'alice@example.com' },
    { login: 'bob@example.com', mailbox: 'Junk' },
    { login: 'full@example.com' },
    { login: 'ghost@example.com' },
  ]);
  assert.deepEqual(outcomes.map((outcome) => [outcome.login, outcome.delivered]), [
    ['alice@example.com', true],
    ['bob@example.com', true],
    ['full@example.com', false],
    ['ghost@example.com', false],
  ]);
  assert.ok(!outcomes[2]!.delivered && outcomes[2]!.error instanceof QuotaExceeded);
  assert.ok(!outcomes[3]!.delivered && outcomes[3]!.error instanceof NotFound);
  const [alice, bobs] = outcomes;
  assert.ok(alice!.delivered && bobs!.delivered);
  assert.equal(alice.blobHash, bobs.blobHash);
  assert.equal(bobs.mailboxId, (await bob.getMailbox('Junk')).id);
  assert.deepEqual(await bob.readMessage(bobs.mailboxId, bobs.uid), message);
  assert.deepEqual(seen.map((change) => change.kind), ['append'], 'watchers hear about their own account only');
  assert.deepEqual(await fixture.store.checkConsistency(), []);
});

test('a missing target mailbox falls back to INBOX; nobody accepting leaves no blob behind', async () => {
  await fixture.account.deleteMailbox('Junk');
  const [outcome] = await fixture.store.deliver(sampleMessage(), [{ login: 'alice@example.com', mailbox: 'Junk' }]);
  assert.ok(outcome!.delivered);
  assert.equal(outcome.mailboxId, (await fixture.account.getMailbox('INBOX')).id);

  await fixture.store.admin.setQuota('alice@example.com', { quotaMessages: 1 });
  const refused = await fixture.store.deliver(sampleMessage({ body: 'never stored\r\n' }), [{ login: 'alice@example.com' }]);
  assert.equal(refused[0]!.delivered, false);
  const names: string[] = [];
  for await (const name of fixture.store.context.blobs.list()) names.push(name);
  assert.deepEqual(names, [outcome.blobHash]);
});

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { AlreadyExists, InvalidInput, NotFound } from '../../src/errors.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore()));
afterEach(() => fixture.dispose());

test('a new account has INBOX and the special-use mailboxes, all subscribed', async () => {
  const mailboxes = await fixture.account.listMailboxes();
  assert.deepEqual(
    mailboxes.map((mailbox) => [mailbox.name, mailbox.specialUse, mailbox.subscribed]),
    [
      ['Archive', '\\Archive', true],
      ['Drafts', '\\Drafts', true],
      ['INBOX', null, true],
      ['Junk', '\\Junk', true],
      ['Sent', '\\Sent', true],
      ['Trash', '\\Trash', true],
    ],
  );
  assert.equal(new Set(mailboxes.map((mailbox) => mailbox.id)).size, 6, 'every MAILBOXID is distinct');
});

test('create makes missing parents, refuses duplicates and bad names', async () => {
  await fixture.account.createMailbox('Lists/Work/Project');
  const names = (await fixture.account.listMailboxes()).map((mailbox) => mailbox.name);
  assert.ok(names.includes('Lists') && names.includes('Lists/Work') && names.includes('Lists/Work/Project'));
  await assert.rejects(fixture.account.createMailbox('Lists/Work'), AlreadyExists);
  await assert.rejects(fixture.account.createMailbox('inbox'), AlreadyExists, 'INBOX is case-insensitive');
  for (const bad of ['', '/x', 'x/', 'a//b', 'tab\there']) await assert.rejects(fixture.account.createMailbox(bad), InvalidInput, bad);
  await assert.rejects(fixture.account.createMailbox('X', { specialUse: '\\Bogus' }), InvalidInput);
});

test('rename keeps MAILBOXID, UIDVALIDITY and messages, moves children and subscriptions', async () => {
  await fixture.account.createMailbox('Old/Child');
  await fixture.account.setSubscribed('Old/Child', true);
  const before = await fixture.account.getMailbox('Old');
  await fixture.account.append('Old', sampleMessage());
  await fixture.account.renameMailbox('Old', 'New/Name');
  const after = await fixture.account.getMailbox('New/Name');
  assert.equal(after.id, before.id);
  assert.equal(after.uidValidity, before.uidValidity);
  assert.equal(after.messages, 1);
  assert.equal((await fixture.account.getMailbox('New/Name/Child')).subscribed, true);
  await assert.rejects(fixture.account.getMailbox('Old'), NotFound);
  await assert.rejects(fixture.account.renameMailbox('New', 'New/Name/Inside'), InvalidInput);
  await assert.rejects(fixture.account.renameMailbox('Sent', 'Drafts'), AlreadyExists);
});

test('renaming INBOX moves its messages and leaves an empty INBOX', async () => {
  await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.renameMailbox('INBOX', 'Old Inbox');
  assert.equal((await fixture.account.getMailbox('INBOX')).messages, 0);
  assert.equal((await fixture.account.getMailbox('Old Inbox')).messages, 2);
});

test('delete removes the mailbox but not its subscription; a new one of the same name gets a new UIDVALIDITY', async () => {
  const first = await fixture.account.createMailbox('Temporary');
  await fixture.account.setSubscribed('Temporary', true);
  await fixture.account.deleteMailbox('Temporary');
  assert.deepEqual((await fixture.account.listSubscriptions()).includes('Temporary'), true);
  const second = await fixture.account.createMailbox('Temporary');
  assert.ok(second.uidValidity > first.uidValidity);
  assert.notEqual(second.id, first.id);
  await assert.rejects(fixture.account.deleteMailbox('INBOX'), InvalidInput);
  await assert.rejects(fixture.account.deleteMailbox('Nothing'), NotFound);
});

test('accounts are sealed: one account cannot reach another account\'s mailbox by id', async () => {
  await fixture.store.admin.addAccount('bob@example.com', 'x');
  const bob = await fixture.store.account('bob@example.com');
  const bobInbox = await bob.getMailbox('INBOX');
  await bob.append('INBOX', sampleMessage());
  await assert.rejects(fixture.account.getMailboxById(bobInbox.id), NotFound);
  await assert.rejects(fixture.account.fetch(bobInbox.id, { uids: [[1, Infinity]] }), NotFound);
  await assert.rejects(fixture.account.readMessage(bobInbox.id, 1), NotFound);
  await assert.rejects(fixture.account.updateFlags(bobInbox.id, [[1, 1]], { mode: 'add', flags: ['\\Seen'] }), NotFound);
  await assert.rejects(fixture.account.expunge(bobInbox.id), NotFound);
  await assert.rejects(fixture.account.copy(bobInbox.id, [[1, 1]], 'INBOX'), NotFound);
});

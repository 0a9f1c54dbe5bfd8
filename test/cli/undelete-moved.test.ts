// `postkeep undelete` brings back what was deleted, not what was moved: the expunge
// half of a move (a MOVE within one mailbox, a client's COPY + STORE \Deleted +
// EXPUNGE) leaves the message in the account, and restoring it made a second copy.
// `--dry-run` says what would come back and changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { sampleMessage } from '../helpers/temporary-store.js';
import { imapflow, login, startTestServer } from '../imap/server-harness.js';

test('undelete skips moved messages, restores deleted ones once, and --dry-run changes nothing', { timeout: 240_000 }, async () => {
  const server = await startTestServer();
  const env = { POSTKEEP_DATA: server.dataDir, POSTKEEP_CONFIG: '' };
  const client = imapflow(server);
  const subjects = async (mailbox: string) => {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const found: string[] = [];
      for await (const message of client.fetch('1:*', { envelope: true }, { uid: true })) found.push(message.envelope!.subject!);
      return found.sort();
    } catch {
      return [];
    } finally {
      lock.release();
      // Selected again next time, so the view includes what the CLI changed meanwhile.
      await client.mailboxClose();
    }
  };
  try {
    for (let index = 1; index <= 7; index++) await server.account.append('INBOX', sampleMessage({ subject: `m${index}` }));
    await client.connect();
    await client.mailboxCreate('Folder');
    const lock = await client.getMailboxLock('INBOX');
    try {
      assert.ok(await client.messageMove('1', 'Folder', { uid: true }), 'm1: MOVE to another mailbox');
      assert.ok(await client.messageMove('2', 'INBOX', { uid: true }), 'm2: MOVE within INBOX (RFC 6851: new UID, old one expunged)');
      assert.ok(await client.messageCopy('3', 'Folder', { uid: true }), 'm3: a client-side move, COPY…');
      assert.ok(await client.messageDelete('3', { uid: true }), '…then STORE \\Deleted and EXPUNGE');
      assert.ok(await client.messageDelete('4:6', { uid: true }), 'm4–m6: deleted');
    } finally {
      lock.release();
    }
    assert.deepEqual(await subjects('INBOX'), ['m2', 'm7']);
    assert.deepEqual(await subjects('Folder'), ['m1', 'm3']);

    const preview = await runCli(['undelete', login, '--dry-run'], { env });
    assert.equal(preview.code, 0, preview.stderr);
    const listed = preview.stdout.trim().split('\n');
    assert.equal(listed.length, 4, preview.stdout);
    for (const line of listed.slice(0, 3)) assert.match(line, /^INBOX UID [456] \(\d+ bytes\), expunged \d{4}-\d\d-\d\dT/);
    assert.equal(listed[3], `dry run: 3 messages would be restored for ${login}; 2 messages skipped (moved, not deleted: still in the account)`);
    assert.deepEqual(await subjects('INBOX'), ['m2', 'm7'], 'the dry run changed nothing');

    const restored = await runCli(['undelete', login], { env });
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.stdout, `3 messages restored for ${login}; 2 messages skipped (moved, not deleted: still in the account)\n`);
    assert.deepEqual(await subjects('INBOX'), ['m2', 'm4', 'm5', 'm6', 'm7'], 'every message once');
    assert.deepEqual(await subjects('Folder'), ['m1', 'm3']);

    const again = await runCli(['undelete', login], { env });
    assert.equal(again.stdout, `0 messages restored for ${login}; 2 messages skipped (moved, not deleted: still in the account)\n`);
    assert.deepEqual(await subjects('INBOX'), ['m2', 'm4', 'm5', 'm6', 'm7']);
  } finally {
    await client.logout().catch(() => {});
    await server.stop();
  }
});

import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { backupStore } from '../../src/integrity/backup.js';
import { readManifest } from '../../src/integrity/backup-manifest.js';
import { compareStores } from '../../src/integrity/compare.js';
import { restoreBackup } from '../../src/integrity/restore.js';
import { verifyBackup } from '../../src/integrity/verify-backup.js';
import { AlreadyExists, InvalidInput } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { exportMail } from '../../src/transfer/export.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
let backup: string;
beforeEach(async () => {
  fixture = await createTemporaryStore();
  backup = path.join(fixture.dataDir, 'backup');
});
afterEach(() => fixture.dispose());

test('a backup is incremental: the second run copies only the new blobs', async () => {
  for (let index = 0; index < 3; index++) await fixture.account.append('INBOX', sampleMessage());
  const first = await backupStore(fixture.store, backup);
  assert.equal(first.copiedBlobs, 3);
  await fixture.account.append('Sent', sampleMessage());
  const second = await backupStore(fixture.store, backup);
  assert.equal(second.copiedBlobs, 1);
  assert.equal(second.reusedBlobs, 3);
  const manifest = await readManifest(backup);
  assert.equal(manifest.blobs.length, 4);
  const inbox = await fixture.account.getMailbox('INBOX');
  assert.equal(manifest.mailboxes.find((mailbox) => mailbox.id === inbox.id)?.digest, inbox.digest);
  assert.equal((await verifyBackup(backup, fixture.log)).ok, true);
});

test('a backup taken while appends run is consistent: it verifies, restores and compares equal to itself', async () => {
  for (let index = 0; index < 5; index++) await fixture.account.append('INBOX', sampleMessage({ size: 50_000 }));
  const writes = Promise.all(Array.from({ length: 20 }, () => fixture.account.append('INBOX', sampleMessage({ size: 20_000 }))));
  const result = await backupStore(fixture.store, backup);
  await writes;
  assert.equal((await verifyBackup(backup, fixture.log)).ok, true);
  const restoredDir = path.join(fixture.dataDir, 'restored');
  const restored = await restoreBackup(backup, restoredDir, fixture.log);
  assert.equal(restored.identical, true, JSON.stringify(restored.problems));
  assert.equal(restored.matchingMailboxes, result.manifest.mailboxes.length);
  assert.equal(compareStores(backup, restoredDir).identical, true);
  const reopened = await openStore({ dataDir: restoredDir, log: fixture.log });
  try {
    const account = await reopened.account('alice@example.com');
    const inbox = await account.getMailbox('INBOX');
    for (const record of await account.fetch(inbox.id, {})) await account.readMessage(inbox.id, record.uid);
    assert.deepEqual(await reopened.checkConsistency(), []);
  } finally {
    await reopened.close();
  }
});

test('backup verify lists a flipped bit, a missing blob and a changed database', async () => {
  const one = await fixture.account.append('INBOX', sampleMessage());
  const two = await fixture.account.append('INBOX', sampleMessage());
  await backupStore(fixture.store, backup);
  const flipped = path.join(backup, 'blobs', one.blobHash.slice(0, 2), one.blobHash);
  const bytes = await fs.readFile(flipped);
  bytes[0]! ^= 1;
  await fs.writeFile(flipped, bytes);
  await fs.rm(path.join(backup, 'blobs', two.blobHash.slice(0, 2), two.blobHash));
  const database = new Database(path.join(backup, 'postkeep.db'));
  database.prepare("UPDATE messages SET flags = '\\Seen'").run();
  database.close();
  const result = await verifyBackup(backup, fixture.log);
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems.map((problem) => problem.kind).sort(), ['blob.mismatch', 'blob.missing', 'database.checksum']);
});

test('a corrupt blob is skipped with a report, not an abort; the rest is backed up', async () => {
  const bad = await fixture.account.append('INBOX', sampleMessage());
  const good = await fixture.account.append('INBOX', sampleMessage());
  await fs.writeFile(fixture.store.context.blobs.pathOf(bad.blobHash), 'garbage');
  const result = await backupStore(fixture.store, backup);
  assert.deepEqual(result.manifest.skipped.map((item) => [item.kind, item.where]), [['blob', bad.blobHash]]);
  assert.deepEqual(result.manifest.blobs.map((blob) => blob.hash), [good.blobHash]);
  const verification = await verifyBackup(backup, fixture.log);
  assert.deepEqual(verification.problems.map((problem) => problem.kind), ['skipped.blob'], 'the skipped blob keeps the backup from verifying clean');
});

test('restore refuses a folder that holds a store, and a folder that is no backup', async () => {
  await backupStore(fixture.store, backup);
  await assert.rejects(restoreBackup(backup, fixture.dataDir, fixture.log), AlreadyExists);
  await assert.rejects(restoreBackup(fixture.dataDir, path.join(fixture.dataDir, 'x'), fixture.log), (error: Error) => error instanceof InvalidInput && /is not a Postkeep backup/.test(error.message));
});

test('compare narrows different digests down to every differing record', async () => {
  const one = await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.append('INBOX', sampleMessage());
  await backupStore(fixture.store, backup);
  await fixture.account.updateFlags(one.mailboxId, [[one.uid, one.uid]], { mode: 'add', flags: ['\\Answered'] });
  const three = await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.createMailbox('Projects');
  fixture.store.context.db.pragma('wal_checkpoint(PASSIVE)');
  const result = compareStores(fixture.dataDir, backup);
  assert.equal(result.identical, false);
  const listed = result.differences.map((difference) => `${difference.kind} ${difference.where}`).sort();
  assert.deepEqual(listed, [
    'mailbox.digest alice@example.com/INBOX',
    'mailbox.only_in_a alice@example.com/Projects',
    `record.differs alice@example.com/INBOX UID ${one.uid}`,
    `record.only_in_a alice@example.com/INBOX UID ${three.uid}`,
  ]);
  assert.match(result.differences.find((difference) => difference.kind === 'record.differs')!.detail, /flags: a "\\\\Answered", b ""/);
  assert.throws(() => compareStores(fixture.dataDir, path.join(fixture.dataDir, 'blobs')), /is not a Postkeep data folder or backup/);
});

test('a record edited behind the store’s back is reported by backup and skipped by export, neither aborts', async () => {
  const bad = await fixture.account.append('INBOX', sampleMessage());
  const good = await fixture.account.append('INBOX', sampleMessage());
  const database = new Database(path.join(fixture.dataDir, 'postkeep.db'));
  database.prepare("UPDATE messages SET flags = '\\Flagged' WHERE uid = ?").run(bad.uid);
  database.close();
  const result = await backupStore(fixture.store, backup);
  assert.deepEqual(result.manifest.skipped.map((item) => [item.kind, item.where]), [['record.checksum', `alice@example.com/INBOX UID ${bad.uid}`]]);
  assert.equal(result.manifest.blobs.length, 2, 'every blob is still backed up');
  const exported = await exportMail(fixture.account, path.join(fixture.dataDir, 'export'));
  assert.equal(exported.exported, 1);
  assert.deepEqual(exported.failed.map((failure) => failure.uid), [bad.uid]);
  assert.match(exported.failed[0]!.reason, /failed verification/);
  assert.ok(good.uid > bad.uid);
});

test('the outbound queue is backed up, verified and restored, and the restored store delivers it', async () => {
  const { SMTPServer } = await import('smtp-server');
  const { QueueRunner } = await import('../../src/smtp/outbound/queue-runner.js');
  const { staticResolver } = await import('../../src/smtp/dns-resolver.js');
  const { configSchema } = await import('../../src/config/schema.js');
  await fixture.account.append('INBOX', sampleMessage());
  const outgoing = Buffer.from('From: alice@example.com\r\nTo: bob@remote.test\r\nSubject: queued before the backup\r\n\r\nStill on its way.\r\n');
  const expiresAt = new Date(Date.now() + 3_600_000);
  await fixture.store.outbound.enqueue(outgoing, { sender: 'alice@example.com', recipients: ['bob@remote.test', 'carol@remote.test'] }, { expiresAt });
  const result = await backupStore(fixture.store, backup);
  assert.equal(result.manifest.queue.length, 1);
  assert.equal((await verifyBackup(backup, fixture.log)).ok, true);

  const restoredDir = path.join(fixture.dataDir, 'restored');
  const restored = await restoreBackup(backup, restoredDir, fixture.log);
  assert.equal(restored.identical, true, JSON.stringify(restored.problems));
  await fixture.store.context.commit.idle();
  fixture.store.context.db.pragma('wal_checkpoint(PASSIVE)');
  assert.deepEqual(compareStores(fixture.dataDir, restoredDir).differences, [], 'the queues compare equal');
  const store = await openStore({ dataDir: restoredDir, log: fixture.log });
  const received: { to: string[]; message: Buffer }[] = [];
  const remote = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((entry) => entry.address), message: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  try {
    const [queued] = await store.outbound.list();
    assert.deepEqual(queued?.recipients.map((recipient) => recipient.address), ['bob@remote.test', 'carol@remote.test']);
    const settings = configSchema.parse({ outbound: { port: (remote.server.address() as { port: number }).port, timeoutSeconds: 10 } }).outbound;
    const resolver = staticResolver({ 'remote.test': { A: ['127.0.0.1'] } });
    const runner = new QueueRunner({ store, log: fixture.log, hostname: 'mx.example.com', resolver, settings });
    await runner.runOnce();
    assert.deepEqual(received.map((entry) => entry.to.sort()), [['bob@remote.test', 'carol@remote.test']]);
    assert.ok(received[0]!.message.includes(outgoing.subarray(outgoing.indexOf('Subject:'))), 'the queued bytes arrive');
    assert.deepEqual(await store.outbound.list(), [], 'delivered: nothing left in the restored queue');
  } finally {
    await new Promise<void>((resolve) => remote.close(() => resolve()));
    await store.close();
  }
  // Delivered from the restored store only: compare names the queued message the other still holds.
  assert.deepEqual(compareStores(fixture.dataDir, restoredDir).differences.map((difference) => difference.kind), ['queue.only_in_a']);

  // A queue file damaged in the backup is named by verify and left out by restore.
  const file = path.join(backup, 'queue', result.manifest.queue[0]!.hash.slice(0, 2), result.manifest.queue[0]!.hash);
  const bytes = await fs.readFile(file);
  bytes[3]! ^= 0x04;
  await fs.writeFile(file, bytes);
  assert.deepEqual((await verifyBackup(backup, fixture.log)).problems.map((problem) => problem.kind), ['queue.mismatch']);
  const second = await restoreBackup(backup, path.join(fixture.dataDir, 'restored-again'), fixture.log);
  assert.equal(second.identical, false);
  assert.deepEqual(second.problems.map((problem) => problem.kind), ['queue.mismatch']);
});

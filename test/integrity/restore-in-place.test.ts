// The in-place repair of a damaged database page (`postkeep restore --in-place`,
// server stopped): the database comes from the backup, blobs stay where they are
// (the same files, untouched), every mailbox digest equals the manifest's, and mail
// acknowledged after the backup is re-linked when the damaged database can still
// say where it belongs, or left in place as an unreferenced blob when it cannot.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { auditStore } from '../../src/integrity/audit.js';
import { backupStore } from '../../src/integrity/backup.js';
import { restoreInPlace } from '../../src/integrity/restore-in-place.js';
import { openStore } from '../../src/store/open-store.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Closes the store and zeroes the b-tree page header of `table`'s root page. */
async function damageTable(fixture: TemporaryStore, table: string): Promise<void> {
  const { rootpage } = fixture.store.context.db.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(table) as { rootpage: number };
  const pageSize = fixture.store.context.db.pragma('page_size', { simple: true }) as number;
  await fixture.store.close();
  const handle = await fs.open(path.join(fixture.dataDir, 'postkeep.db'), 'r+');
  await handle.write(Buffer.alloc(12, 0), 0, 12, (rootpage - 1) * pageSize);
  await handle.close();
}

async function scenario() {
  const fixture = await createTemporaryStore();
  cleanups.push(() => fixture.dispose());
  const before = [sampleMessage(), sampleMessage({ size: 9000 })];
  const appended = [];
  for (const bytes of before) appended.push(await fixture.account.append('INBOX', bytes, { flags: ['\\Seen'] }));
  const backup = path.join(fixture.dataDir, 'backup');
  await backupStore(fixture.store, backup);
  // Acknowledged after the backup: the mail a page-corruption repair must not lose.
  const newer = sampleMessage({ subject: 'after the backup' });
  const late = await fixture.account.append('Archive', newer, { flags: ['\\Flagged'] });
  await fixture.store.context.commit.idle();
  fixture.store.context.db.pragma('wal_checkpoint(TRUNCATE)');
  const blobFile = fixture.store.context.blobs.pathOf(appended[0]!.blobHash);
  const inode = (await fs.stat(blobFile)).ino;
  return { fixture, backup, before, appended, newer, late, blobFile, inode };
}

test('a damaged page outside the messages table: the database comes back from the backup, blobs stay in place, newer mail is re-linked', async () => {
  const { fixture, backup, before, appended, newer, late, blobFile, inode } = await scenario();
  await damageTable(fixture, 'changes');
  const result = await restoreInPlace(backup, fixture.dataDir, fixture.log);
  assert.equal(result.identical, true, JSON.stringify(result.problems));
  assert.equal(result.copiedFiles, 0, 'every blob was good where it was');
  assert.equal(result.keptFiles, 2);
  assert.equal(result.relinked, 1);
  assert.equal(result.unlinkedBlobs, 0);
  assert.equal((await fs.stat(blobFile)).ino, inode, 'the same blob file, not a copy');
  assert.ok((await fs.stat(path.join(result.damagedDatabase, 'postkeep.db'))).isFile(), 'the damaged database is kept');

  fixture.store = await openStore({ dataDir: fixture.dataDir, log: fixture.log });
  fixture.account = await fixture.store.account('alice@example.com');
  for (const [index, bytes] of before.entries()) assert.deepEqual(await fixture.account.readMessage(appended[index]!.mailboxId, appended[index]!.uid), bytes);
  const archive = await fixture.account.fetch(late.mailboxId, { uids: [[1, Infinity]] });
  assert.equal(archive.length, 1);
  assert.deepEqual(archive[0]!.flags, ['\\Flagged']);
  assert.deepEqual(await fixture.account.readMessage(late.mailboxId, archive[0]!.uid), newer);
  assert.equal((await auditStore(fixture.store)).ok, true);
});

test('a damaged messages page: nothing newer can be re-linked, and its blob stays in place for the admin', async () => {
  const { fixture, backup, late } = await scenario();
  await damageTable(fixture, 'messages');
  const result = await restoreInPlace(backup, fixture.dataDir, fixture.log);
  assert.equal(result.identical, true, 'the backup’s mailboxes came back exactly');
  assert.equal(result.relinked, 0);
  assert.equal(result.unlinkedBlobs, 1);
  assert.deepEqual(result.problems.map((problem) => problem.kind), ['relink.unreadable']);
  fixture.store = await openStore({ dataDir: fixture.dataDir, log: fixture.log });
  assert.equal(await fixture.store.context.blobs.verify(late.blobHash), true, 'the newer message’s bytes are still there');
  // Its record is lost: audit says so (an error, for --recover-to), and it is not deleted.
  const audit = await auditStore(fixture.store, { orphanGraceMilliseconds: 0 });
  assert.equal(audit.ok, false);
  assert.ok(audit.findings.some((finding) => finding.kind === 'blob.orphan' && finding.severity === 'error' && finding.where === late.blobHash), JSON.stringify(audit.findings));
});

test('in place needs a store there and a backup whose database matches its manifest', async () => {
  const { fixture, backup } = await scenario();
  await assert.rejects(restoreInPlace(backup, path.join(fixture.dataDir, 'empty'), fixture.log), /holds no store/);
  await fs.appendFile(path.join(backup, 'postkeep.db'), 'x');
  await assert.rejects(restoreInPlace(backup, fixture.dataDir, fixture.log), /does not match the hash in its manifest/);
});

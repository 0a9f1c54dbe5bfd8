import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { auditStore, type AuditReport } from '../../src/integrity/audit.js';
import { backupStore } from '../../src/integrity/backup.js';
import { openGoodCopy } from '../../src/integrity/good-copy.js';
import { NotFound } from '../../src/errors.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore()));
afterEach(() => fixture.dispose());

function kinds(report: AuditReport): string[] {
  return [...new Set(report.findings.map((finding) => finding.kind))].sort();
}

/** Another connection writing the file, as a stray tool or a disk error would. */
function behindTheBack(sql: string, ...parameters: unknown[]): void {
  const database = new Database(path.join(fixture.dataDir, 'postkeep.db'));
  try {
    database.pragma('foreign_keys = OFF');
    database.prepare(sql).run(...parameters);
  } finally {
    database.close();
  }
}

async function appendSome(count: number) {
  const appended = [];
  for (let index = 0; index < count; index++) appended.push(await fixture.account.append('INBOX', sampleMessage({ size: 1000 + index })));
  return appended;
}

test('a clean store audits clean and says what it checked', async () => {
  await appendSome(3);
  const report = await auditStore(fixture.store);
  assert.deepEqual(report.findings, []);
  assert.equal(report.ok, true);
  assert.equal(report.checked.accounts, 1);
  assert.equal(report.checked.mailboxes, 6);
  assert.equal(report.checked.records, 3);
  assert.equal(report.checked.blobs, 3);
  assert.ok(report.checked.bytes > 3000);
});

test('without repair the audit only reports: a bad blob stays in place', async () => {
  const [message] = await appendSome(1);
  const file = fixture.store.context.blobs.pathOf(message!.blobHash);
  const bytes = await fs.readFile(file);
  bytes[10]! ^= 0x40;
  await fs.writeFile(file, bytes);
  const report = await auditStore(fixture.store);
  assert.equal(report.ok, false);
  assert.deepEqual(kinds(report), ['blob.mismatch']);
  assert.equal(report.findings[0]!.repair, undefined);
  assert.deepEqual(await fs.readFile(file), bytes, 'the file was not moved or changed');
});

test('repair rebuilds every derived value from its source and keeps every message', async () => {
  const appended = await appendSome(4);
  await fixture.account.updateFlags(appended[0]!.mailboxId, [[1, 2]], { mode: 'add', flags: ['\\Seen'] });
  behindTheBack(
    "UPDATE mailboxes SET message_count = 40, total_size = 1, uidnext = 2, highest_modseq = 1, digest = '00' || substr(digest, 3) WHERE name = 'INBOX'",
  );
  behindTheBack('UPDATE accounts SET used_bytes = 7, used_messages = 0, highest_modseq = 2');
  behindTheBack('UPDATE blobs SET refcount = 9');
  const found = await auditStore(fixture.store);
  assert.deepEqual(kinds(found), [
    'account.change_log',
    'account.highest_modseq',
    'account.used_bytes',
    'account.used_messages',
    'blob.refcount',
    'mailbox.digest',
    'mailbox.highest_modseq',
    'mailbox.message_count',
    'mailbox.total_size',
    'mailbox.uidnext',
  ]);
  const repaired = await auditStore(fixture.store, { repair: true });
  assert.equal(repaired.ok, true, JSON.stringify(repaired.findings));
  assert.ok(repaired.findings.every((finding) => finding.repair === 'repaired'));
  assert.deepEqual(await fixture.store.checkConsistency(), []);
  const inbox = await fixture.account.getMailbox('INBOX');
  assert.equal(inbox.messages, 4);
  assert.equal(inbox.uidNext, 5);
  for (const message of appended) assert.ok((await fixture.account.readMessage(message.mailboxId, message.uid)).length > 0);
  assert.ok(fixture.log.events.some((event) => event.event === 'integrity.repaired'));
});

test('an edited record with no copy to prove it stays reported and is never deleted', async () => {
  const [message] = await appendSome(2);
  const before = await fixture.account.getMailbox('INBOX');
  behindTheBack("UPDATE messages SET flags = '\\Flagged' WHERE uid = ?", message!.uid);
  const report = await auditStore(fixture.store, { repair: true });
  assert.equal(report.ok, false);
  const record = report.findings.find((finding) => finding.kind === 'record.checksum');
  assert.equal(record?.repair, 'unrepaired');
  const after = await fixture.account.getMailbox('INBOX');
  assert.equal(after.messages, 2);
  assert.equal(after.digest, before.digest, 'a digest over an unproven record is not written');
  await assert.rejects(fixture.account.readMessage(message!.mailboxId, message!.uid), /failed verification/);
});

test('a record is restored from a copy by its checksum; a corrupt checksum is proven by the copy’s record', async () => {
  const [first, second] = await appendSome(2);
  const backup = path.join(fixture.dataDir, 'backup');
  await backupStore(fixture.store, backup);
  behindTheBack('UPDATE messages SET uid = 77 WHERE uid = ?', first!.uid);
  behindTheBack("UPDATE messages SET checksum = 'ff' || substr(checksum, 3) WHERE uid = ?", second!.uid);
  const copy = openGoodCopy(backup, fixture.log);
  try {
    const report = await auditStore(fixture.store, { repair: true, copies: [copy] });
    assert.equal(report.ok, true, JSON.stringify(report.findings));
  } finally {
    copy.close();
  }
  const records = await fixture.account.fetch(first!.mailboxId, {});
  assert.deepEqual(records.map((record) => record.uid), [first!.uid, second!.uid]);
  assert.equal((await fixture.account.getMailbox('INBOX')).uidNext, 3, 'UIDNEXT was not pushed up by the bogus UID');
  assert.deepEqual(await fixture.store.checkConsistency(), []);
});

test('a bad blob with no good copy is quarantined and reported; its record stays', async () => {
  const [message] = await appendSome(1);
  await fs.writeFile(fixture.store.context.blobs.pathOf(message!.blobHash), 'not the message');
  const report = await auditStore(fixture.store, { repair: true });
  assert.equal(report.ok, false);
  assert.equal(report.findings.find((finding) => finding.kind === 'blob.mismatch')?.repair, 'quarantined');
  const quarantined = await fs.readdir(path.join(fixture.store.context.blobs.root, 'quarantine'));
  assert.ok(quarantined.some((name) => name.startsWith(message!.blobHash)));
  assert.equal((await fixture.account.getMailbox('INBOX')).messages, 1);
});

test('an orphan blob file is an error (a lost record) and never deleted; old temp files are notices', async () => {
  await appendSome(1);
  const orphan = await fixture.store.context.blobs.write(Buffer.from('nobody refers to me'));
  const leftover = path.join(fixture.store.context.blobs.root, 'tmp', 'torn');
  await fs.writeFile(leftover, 'part');
  const hourAgo = new Date(Date.now() - 3_600_000);
  await fs.utimes(leftover, hourAgo, hourAgo);
  const report = await auditStore(fixture.store, { repair: true, orphanGraceMilliseconds: 0 });
  assert.equal(report.ok, false);
  assert.deepEqual(kinds(report), ['blob.orphan', 'blob.temporary_leftover']);
  assert.deepEqual(report.findings.map((finding) => [finding.kind, finding.severity, finding.repair]), [
    ['blob.orphan', 'error', 'unrepaired'],
    ['blob.temporary_leftover', 'notice', 'repaired'],
  ]);
  assert.ok(await fixture.store.context.blobs.exists(orphan.hash), 'the orphan is still there');
  await assert.rejects(fs.access(leftover), 'the unacknowledged partial write is gone');
});

test('--account audits one account and the blobs its records use', async () => {
  await fixture.store.admin.addAccount('bob@example.com', 'x');
  const bob = await fixture.store.account('bob@example.com');
  await appendSome(1);
  const bobs = await bob.append('INBOX', sampleMessage());
  await fs.rm(fixture.store.context.blobs.pathOf(bobs.blobHash));
  assert.equal((await auditStore(fixture.store, { account: 'alice@example.com' })).ok, true);
  const report = await auditStore(fixture.store, { account: 'bob@example.com' });
  assert.deepEqual(kinds(report), ['blob.missing']);
  assert.equal(report.checked.records, 1);
  await assert.rejects(auditStore(fixture.store, { account: 'carol@example.com' }), NotFound);
});

test('SQLite’s own checks: a record pointing at no blob row, a change log going backwards', async () => {
  await appendSome(2);
  behindTheBack("UPDATE messages SET blob_hash = ? WHERE uid = 1", 'a'.repeat(64));
  behindTheBack("INSERT INTO changes (account_id, modseq, mailbox_object_id, kind, uid) VALUES (1, 1, 'x', 'flags', 1)");
  const report = await auditStore(fixture.store);
  assert.ok(kinds(report).includes('database.foreign_key'), JSON.stringify(kinds(report)));
  assert.ok(kinds(report).includes('account.change_log_order'));
  assert.ok(kinds(report).includes('blob.missing'), 'the hash the record names is checked even without its row');
});

// Metadata lost after it was acknowledged (the write-ahead log cut short by a disk
// that lost confirmed writes, or a damaged page): the message files are still
// there but no record points to them. Audit calls each one an error, garbage
// collection never deletes one, and `audit --repair --recover-to` files them into a
// lost-and-found as new messages, byte for byte, after which audit is clean.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { auditStore } from '../../src/integrity/audit.js';
import { findOrphanBlobs } from '../../src/store/sqlite/orphan-blobs.js';
import { runCli } from '../helpers/run-cli.js';
import { createTemporaryStore, sampleMessage } from '../helpers/temporary-store.js';
import { createCliFixture } from './cli-fixture.js';

interface Finding {
  kind: string;
  severity: string;
  where: string;
  detail: string;
  repair?: string;
}

const databaseFiles = ['postkeep.db', 'postkeep.db-wal', 'postkeep.db-shm'];

test('acknowledged appends whose metadata was lost: audit fails, GC keeps them, --recover-to files them', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-lost-records-');
  const config = path.join(fixture.root, 'postkeep.toml');
  // No other process writes this folder: nothing can be in flight.
  await fs.writeFile(config, '[store]\norphanGraceSeconds = 0\n');
  const env = { ...fixture.env, POSTKEEP_CONFIG: config };
  try {
    // The database as it was before three more appends (closed, so checkpointed).
    const saved = path.join(fixture.root, 'before');
    await fs.mkdir(saved);
    for (const name of databaseFiles) await fs.copyFile(path.join(fixture.dataDir, name), path.join(saved, name)).catch(() => {});
    const lost = [sampleMessage({ subject: 'lost one' }), sampleMessage({ subject: 'lost two', size: 40_000 }), sampleMessage({ subject: 'lost three' })];
    const hashes = await fixture.withStore(async (store) => {
      const account = await store.account('alice@example.com');
      const results = [];
      for (const bytes of lost) results.push(await account.append('INBOX', bytes, { flags: ['\\Seen'] }));
      return results.map((result) => result.blobHash);
    });
    // Every write after that point is gone from the metadata; the blob files stay.
    for (const name of databaseFiles) await fs.rm(path.join(fixture.dataDir, name), { force: true });
    for (const name of databaseFiles) await fs.copyFile(path.join(saved, name), path.join(fixture.dataDir, name)).catch(() => {});

    let result = await runCli(['audit', '--json'], { env });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    assert.deepEqual(
      findings.map((finding) => [finding.kind, finding.severity, finding.where]).sort(),
      hashes.map((hash) => ['blob.orphan', 'error', hash]).sort(),
    );
    assert.match(findings[0]!.detail, /no record points to.*--recover-to/);

    // Garbage collection, even long after any retention window, leaves them alone.
    await fixture.withStore(async (store) => {
      const report = await store.admin.collectGarbage(new Date(Date.now() + 365 * 86_400_000));
      assert.equal(report.blobsRemoved, 0);
      for (const hash of hashes) assert.ok(await store.context.blobs.exists(hash), `GC kept ${hash}`);
    });

    result = await runCli(['audit', '--repair'], { env });
    assert.equal(result.code, 1, 'without --recover-to they stay errors');
    assert.match(result.stdout, /blob\.orphan .*\[unrepaired\]/);
    result = await runCli(['audit', '--recover-to', 'alice@example.com/Recovered'], { env });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^postkeep: --recover-to needs --repair/);

    result = await runCli(['audit', '--repair', '--recover-to', 'alice@example.com/Recovered'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal((result.stdout.match(/recovered into alice@example\.com\/Recovered as UID \d+ \[repaired\]/g) ?? []).length, 3, result.stdout);
    result = await runCli(['audit'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);

    await fixture.withStore(async (store) => {
      const account = await store.account('alice@example.com');
      const recovered = await account.getMailbox('Recovered');
      assert.equal(recovered.messages, 3);
      const records = await account.fetch(recovered.id, { uids: [[1, Infinity]] });
      const bodies = await Promise.all(records.map((record) => account.readMessage(recovered.id, record.uid)));
      assert.deepEqual(bodies.map((bytes) => bytes.toString('base64')).sort(), lost.map((bytes) => bytes.toString('base64')).sort());
      // Filed through the store: each one an append in the change log, the digest and counters in step.
      const appends = (await account.changesSince(recovered.id, 0)).filter((change) => change.kind === 'append');
      assert.equal(appends.length, 3);
      assert.deepEqual(await store.checkConsistency(), []);
    });
  } finally {
    await fixture.dispose();
  }
});

test('a blob row whose records vanished is not released by --repair, and GC never collects it', async () => {
  const temporary = await createTemporaryStore();
  try {
    const bytes = sampleMessage({ subject: 'row survives, record does not' });
    const appended = await temporary.account.append('INBOX', bytes);
    await temporary.store.context.commit.idle();
    const database = new Database(path.join(temporary.dataDir, 'postkeep.db'));
    database.prepare('DELETE FROM messages WHERE blob_hash = ?').run(appended.blobHash);
    database.close();

    const repair = await auditStore(temporary.store, { repair: true, orphanGraceMilliseconds: 0 });
    assert.equal(repair.ok, false);
    const orphan = repair.findings.find((finding) => finding.kind === 'blob.orphan');
    assert.equal(orphan?.where, appended.blobHash);
    assert.equal(orphan.repair, 'unrepaired');
    // Rebuilding refcounts did not make it garbage.
    await temporary.store.admin.collectGarbage(new Date(Date.now() + 365 * 86_400_000));
    assert.ok(await temporary.store.context.blobs.exists(appended.blobHash));

    const recovered = await auditStore(temporary.store, { repair: true, recoverTo: 'alice@example.com', orphanGraceMilliseconds: 0 });
    assert.equal(recovered.ok, true, JSON.stringify(recovered.findings));
    const mailbox = await temporary.account.getMailbox('Recovered');
    const [record] = await temporary.account.fetch(mailbox.id, { uids: [[1, Infinity]] });
    assert.deepEqual(await temporary.account.readMessage(mailbox.id, record!.uid), bytes);
    assert.equal((await auditStore(temporary.store, { orphanGraceMilliseconds: 0 })).ok, true);
  } finally {
    await temporary.dispose();
  }
});

test('GC never deletes a blob a record still refers to, even with its refcount damaged to 0', async () => {
  const temporary = await createTemporaryStore();
  try {
    const bytes = sampleMessage();
    const appended = await temporary.account.append('INBOX', bytes);
    await temporary.store.context.commit.idle();
    const database = new Database(path.join(temporary.dataDir, 'postkeep.db'));
    database.prepare('UPDATE blobs SET refcount = 0 WHERE hash = ?').run(appended.blobHash);
    database.close();
    const report = await temporary.store.admin.collectGarbage(new Date(Date.now() + 365 * 86_400_000));
    assert.equal(report.blobsRemoved, 0);
    assert.deepEqual(await temporary.account.readMessage(appended.mailboxId, appended.uid), bytes);
  } finally {
    await temporary.dispose();
  }
});

test('a recovery the store refuses (over quota) leaves the orphan file in place, an error still', async () => {
  const temporary = await createTemporaryStore({ quotaMessages: 1 });
  try {
    await temporary.account.append('INBOX', sampleMessage());
    const bytes = sampleMessage({ subject: 'no room for me' });
    const orphan = await temporary.store.context.blobs.write(bytes);
    await temporary.store.context.blobs.syncDirectories([orphan.directoryToSync!]);
    const report = await auditStore(temporary.store, { repair: true, recoverTo: 'alice@example.com/Lost and Found' });
    const finding = report.findings.find((item) => item.kind === 'blob.orphan');
    assert.equal(finding?.repair, 'unrepaired');
    assert.match(finding.detail, /not recovered: .*messages/);
    assert.equal(report.ok, false);
    assert.ok(await temporary.store.context.blobs.verify(orphan.hash), 'the only copy is still there, intact');
    // With room again, the same command files it.
    await temporary.store.admin.setQuota('alice@example.com', { quotaMessages: null });
    const again = await auditStore(temporary.store, { repair: true, recoverTo: 'alice@example.com/Lost and Found' });
    assert.equal(again.ok, true, JSON.stringify(again.findings));
    const mailbox = await temporary.account.getMailbox('Lost and Found');
    const [record] = await temporary.account.fetch(mailbox.id, { uids: [[1, Infinity]] });
    assert.deepEqual(await temporary.account.readMessage(mailbox.id, record!.uid), bytes);
  } finally {
    await temporary.dispose();
  }
});

test('released blobs are collected and never called orphans; a young file is looked at again after the grace', async () => {
  const temporary = await createTemporaryStore({ retentionDays: 0 });
  try {
    const kept = await temporary.account.append('INBOX', sampleMessage());
    const doomed = await temporary.account.append('INBOX', sampleMessage());
    await temporary.account.updateFlags(doomed.mailboxId, [[doomed.uid, doomed.uid]], { mode: 'add', flags: ['\\Deleted'] });
    await temporary.account.expunge(doomed.mailboxId);
    // Released but not collected yet: garbage, not a lost record.
    assert.equal((await auditStore(temporary.store, { orphanGraceMilliseconds: 0 })).ok, true);
    const report = await temporary.store.admin.collectGarbage(new Date(Date.now() + 1000));
    assert.equal(report.blobsRemoved, 1);
    assert.equal(await temporary.store.context.blobs.exists(doomed.blobHash), false);
    assert.ok(await temporary.store.context.blobs.exists(kept.blobHash));
    assert.equal((await auditStore(temporary.store, { orphanGraceMilliseconds: 0 })).ok, true);

    // A file written a moment ago may be a delivery another process is committing: the
    // search waits out the grace, reads the database again, and the record is there by then.
    const bytes = sampleMessage();
    const written = await temporary.store.context.blobs.write(bytes);
    let waited = 0;
    const orphans = await findOrphanBlobs(temporary.store.context, {
      graceMilliseconds: 60_000,
      sleep: async (milliseconds) => {
        waited = milliseconds;
        await temporary.account.append('INBOX', bytes);
      },
    });
    assert.ok(waited > 0 && waited <= 60_000, `waited ${waited} ms`);
    assert.deepEqual(orphans, [], `${written.hash} was committed meanwhile`);
    // Without a commit in the meantime, it stays an orphan after the wait.
    const stray = await temporary.store.context.blobs.write(sampleMessage());
    const after = await findOrphanBlobs(temporary.store.context, { graceMilliseconds: 60_000, sleep: async () => {} });
    assert.deepEqual(after.map((orphan) => orphan.hash), [stray.hash]);
  } finally {
    await temporary.dispose();
  }
});

// The audit covers the outbound queue: mail acknowledged to a sender and waiting
// for a remote server. A bad or missing queued file is an error that --repair
// restores from a backup's queue folder; nothing else is changed without --repair.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { auditStore } from '../../src/integrity/audit.js';
import { backupStore } from '../../src/integrity/backup.js';
import { openGoodCopy } from '../../src/integrity/good-copy.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore()));
afterEach(() => fixture.dispose());

const expiresAt = () => new Date(Date.now() + 86_400_000);

async function queueTwo() {
  const first = sampleMessage({ subject: 'to carol', size: 4000 });
  const second = sampleMessage({ subject: 'to dave', size: 5000 });
  const queuedFirst = await fixture.store.outbound.enqueue(first, { sender: 'alice@example.com', recipients: ['carol@remote.test'] }, { expiresAt: expiresAt() });
  const queuedSecond = await fixture.store.outbound.enqueue(second, { sender: 'alice@example.com', recipients: ['dave@other.test'] }, { expiresAt: expiresAt() });
  const hashOf = async (id: number) => (fixture.store.context.ledger.sql('SELECT blob_hash FROM outbound_messages WHERE id = ?').get(id) as { blob_hash: string }).blob_hash;
  return { first, second, firstHash: await hashOf(queuedFirst.id), secondHash: await hashOf(queuedSecond.id), ids: [queuedFirst.id, queuedSecond.id] };
}

test('a clean queue audits clean and is counted', async () => {
  await queueTwo();
  const report = await auditStore(fixture.store);
  assert.deepEqual(report.findings, []);
  assert.equal(report.checked.queueFiles, 2);
  assert.ok(report.checked.bytes >= 9000);
});

test('a corrupted and a missing queued file are errors; without --repair nothing is touched', async () => {
  const { firstHash, secondHash, ids } = await queueTwo();
  const corrupted = fixture.store.queueFiles.pathOf(firstHash);
  const bytes = await fs.readFile(corrupted);
  bytes[100]! ^= 0x01;
  await fs.writeFile(corrupted, bytes);
  await fs.rm(fixture.store.queueFiles.pathOf(secondHash));

  const report = await auditStore(fixture.store);
  assert.equal(report.ok, false);
  const byKind = Object.fromEntries(report.findings.map((finding) => [finding.kind, finding]));
  assert.deepEqual(Object.keys(byKind).sort(), ['queue.mismatch', 'queue.missing']);
  assert.match(byKind['queue.mismatch']!.where, new RegExp(`^queued message ${ids[0]} \\(${firstHash}\\)$`));
  assert.match(byKind['queue.missing']!.where, new RegExp(`^queued message ${ids[1]} \\(${secondHash}\\)$`));
  assert.deepEqual(await fs.readFile(corrupted), bytes, 'the bad file was neither moved nor changed');
  // A one-account audit is about mailboxes only.
  assert.equal((await auditStore(fixture.store, { account: 'alice@example.com' })).checked.queueFiles, 0);
});

test('--repair restores bad and missing queued files from a backup, and the queue serves the right bytes again', async () => {
  const { first, second, firstHash, secondHash, ids } = await queueTwo();
  const backup = path.join(fixture.dataDir, 'backup');
  await backupStore(fixture.store, backup);
  await fs.writeFile(fixture.store.queueFiles.pathOf(firstHash), 'not the message');
  await fs.rm(fixture.store.queueFiles.pathOf(secondHash));

  const copy = openGoodCopy(backup, fixture.log);
  let report;
  try {
    report = await auditStore(fixture.store, { repair: true, copies: [copy] });
  } finally {
    copy.close();
  }
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.deepEqual(report.findings.map((finding) => [finding.kind, finding.repair]).sort(), [
    ['queue.mismatch', 'repaired'],
    ['queue.missing', 'repaired'],
  ]);
  const quarantined = await fs.readdir(path.join(fixture.store.queueFiles.root, 'quarantine'));
  assert.ok(quarantined.some((name) => name.startsWith(firstHash)), 'the bad file was kept aside for an admin');
  for (const [id, bytes] of [[ids[0]!, first], [ids[1]!, second]] as const) {
    const chunks: Buffer[] = [];
    for await (const chunk of await fixture.store.outbound.open(id)) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), bytes);
  }
  assert.deepEqual((await auditStore(fixture.store)).findings, []);
});

test('with no copy a bad queued file is quarantined and stays an error; an orphan queue file is a notice', async () => {
  const { firstHash } = await queueTwo();
  await fs.writeFile(fixture.store.queueFiles.pathOf(firstHash), 'not the message');
  const orphan = await fixture.store.queueFiles.write(Buffer.from('From: nobody\r\n\r\nnever queued\r\n'));
  await fixture.store.queueFiles.syncDirectories([orphan.directoryToSync!]);

  const report = await auditStore(fixture.store, { repair: true });
  assert.equal(report.ok, false);
  assert.equal(report.findings.find((finding) => finding.kind === 'queue.mismatch')?.repair, 'quarantined');
  const notice = report.findings.find((finding) => finding.kind === 'queue.orphan');
  assert.equal(notice?.severity, 'notice');
  assert.equal(notice?.where, orphan.hash);
  assert.ok(await fixture.store.queueFiles.exists(orphan.hash), 'an orphan is reported, not deleted');
});

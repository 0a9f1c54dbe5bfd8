// A message file whose records were lost (a blob.orphan in audit) is the only copy of that
// mail until `postkeep audit --repair --recover-to` files it again. An append or delivery
// of the same bytes that fails when it records them (here: over quota) must leave that
// file alone: it removes only a file the failed write itself created.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { QuotaExceeded } from '../../src/errors.js';
import { blobDirectoryName } from '../../src/store/data-folder.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

function blobFile(fixture: TemporaryStore, hash: string): string {
  return path.join(fixture.dataDir, blobDirectoryName, hash.slice(0, 2), hash);
}

/** The names of the message files on disk (a fan-out folder a write made may stay, empty). */
async function blobFiles(fixture: TemporaryStore): Promise<string[]> {
  const names = await fs.readdir(path.join(fixture.dataDir, blobDirectoryName), { recursive: true });
  return names.map((name) => path.basename(name)).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
}

/** Loses the records of a stored message, as a damaged database would: its file stays, an orphan. */
function loseRecords(fixture: TemporaryStore, hash: string): void {
  const database = new Database(path.join(fixture.dataDir, 'postkeep.db'));
  try {
    database.pragma('busy_timeout = 10000');
    database.prepare('DELETE FROM messages WHERE blob_hash = ?').run(hash);
    database.prepare('DELETE FROM blobs WHERE hash = ?').run(hash);
  } finally {
    database.close();
  }
}

async function orphanOf(fixture: TemporaryStore, message: Buffer): Promise<string> {
  const stored = await fixture.account.append('INBOX', message);
  loseRecords(fixture, stored.blobHash);
  assert.deepEqual(await fs.readFile(blobFile(fixture, stored.blobHash)), message);
  // Nothing new fits from here on: the next write fails at its recording step.
  await fixture.store.admin.setQuota('alice@example.com', { quotaMessages: 0 });
  return stored.blobHash;
}

test('a failed APPEND of an orphan\'s bytes leaves the orphan file in place', async () => {
  const fixture = await createTemporaryStore();
  try {
    const message = sampleMessage({ size: 5000 });
    const hash = await orphanOf(fixture, message);
    await assert.rejects(fixture.account.append('INBOX', message), QuotaExceeded);
    assert.deepEqual(await fs.readFile(blobFile(fixture, hash)), message);
    // A failed write of new bytes still leaves nothing behind.
    const fresh = sampleMessage({ size: 5000 });
    await assert.rejects(fixture.account.append('INBOX', fresh), QuotaExceeded);
    assert.deepEqual(await blobFiles(fixture), [hash]);
  } finally {
    await fixture.dispose();
  }
});

test('a delivery of an orphan\'s bytes that every recipient refuses leaves the orphan file in place', async () => {
  const fixture = await createTemporaryStore();
  try {
    const message = sampleMessage({ size: 5000 });
    const hash = await orphanOf(fixture, message);
    const outcomes = await fixture.store.deliver(message, [{ login: 'alice@example.com' }]);
    assert.equal(outcomes.length, 1);
    assert.ok(!outcomes[0]!.delivered && outcomes[0]!.error instanceof QuotaExceeded);
    assert.deepEqual(await fs.readFile(blobFile(fixture, hash)), message);
    // A refused delivery of new bytes still leaves nothing behind.
    await fixture.store.deliver(sampleMessage({ size: 5000 }), [{ login: 'alice@example.com' }]);
    assert.deepEqual(await blobFiles(fixture), [hash]);
  } finally {
    await fixture.dispose();
  }
});

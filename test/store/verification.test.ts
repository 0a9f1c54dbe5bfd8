import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { IntegrityError } from '../../src/errors.js';
import { createTemporaryStore, sampleMessage, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
beforeEach(async () => (fixture = await createTemporaryStore()));
afterEach(() => fixture.dispose());

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('a flipped bit is never served: typed error, quarantine, event', async () => {
  const appended = await fixture.account.append('INBOX', sampleMessage());
  const file = fixture.store.context.blobs.pathOf(appended.blobHash);
  const bytes = await fs.readFile(file);
  bytes[bytes.length - 3]! ^= 0x01;
  await fs.writeFile(file, bytes);
  await assert.rejects(fixture.account.readMessage(appended.mailboxId, appended.uid), IntegrityError);
  const quarantined = await fs.readdir(path.join(fixture.store.context.blobs.root, 'quarantine'));
  assert.equal(quarantined.length, 1);
  assert.ok(quarantined[0]!.startsWith(appended.blobHash));
  assert.ok(fixture.log.events.some((event) => event.event === 'integrity.blob_mismatch' && event.fields.blob === appended.blobHash));
  await assert.rejects(fixture.account.openMessage(appended.mailboxId, appended.uid), IntegrityError, 'now missing: still an integrity error');
  assert.ok(fixture.log.events.some((event) => event.event === 'integrity.blob_missing'));
});

test('a large corrupted blob fails before its first byte is streamed', async () => {
  const message = sampleMessage({ size: 9 * 1024 * 1024 });
  const appended = await fixture.account.append('INBOX', message);
  assert.deepEqual(await readStream(await fixture.account.openMessage(appended.mailboxId, appended.uid)), message);
  const file = fixture.store.context.blobs.pathOf(appended.blobHash);
  const handle = await fs.open(file, 'r+');
  await handle.write(Buffer.from('X'), 0, 1, 5 * 1024 * 1024);
  await handle.close();
  await assert.rejects(fixture.account.openMessage(appended.mailboxId, appended.uid), IntegrityError);
});

test('a truncated or deleted blob is an integrity error, other messages still read', async () => {
  const bad = await fixture.account.append('INBOX', sampleMessage());
  const good = await fixture.account.append('INBOX', sampleMessage());
  await fs.truncate(fixture.store.context.blobs.pathOf(bad.blobHash), 10);
  await assert.rejects(fixture.account.readMessage(bad.mailboxId, bad.uid), IntegrityError);
  assert.ok((await fixture.account.readMessage(good.mailboxId, good.uid)).length > 0);
});

test('a temp file left by a crash is removed at open and never becomes a blob', async () => {
  const temporary = path.join(fixture.store.context.blobs.root, 'tmp', 'torn-write');
  await fs.writeFile(temporary, 'partial');
  await fixture.store.close();
  const { openStore } = await import('../../src/store/open-store.js');
  const reopened = await openStore({ dataDir: fixture.dataDir, log: fixture.log });
  try {
    await assert.rejects(fs.access(temporary));
    const names: string[] = [];
    for await (const name of reopened.context.blobs.list()) names.push(name);
    assert.deepEqual(names, []);
  } finally {
    await reopened.close();
  }
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { auditStore } from '../../src/integrity/audit.js';
import { startScrub } from '../../src/integrity/scrub.js';
import { createMemoryLogger } from '../../src/log.js';
import type { BlobFileSystem } from '../../src/store/blobs/file-blob-store.js';
import { MirroredBlobStore } from '../../src/store/blobs/mirrored-blob-store.js';
import { openStore } from '../../src/store/open-store.js';
import type { SqliteMailStore } from '../../src/store/sqlite/sqlite-store.js';
import { sampleMessage, temporaryDirectory } from '../helpers/temporary-store.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function mirroredStore(options: { acknowledgeAfterCopies?: number } = {}) {
  const root = await temporaryDirectory('postkeep-mirror-');
  const mirrors = [path.join(root, 'disk2'), path.join(root, 'disk3')];
  const log = createMemoryLogger();
  const store = await openStore({ dataDir: path.join(root, 'data'), log, blobMirrors: mirrors, ...options });
  await store.admin.addDomain('example.com');
  await store.admin.addAccount('alice@example.com', 'x');
  const account = await store.account('alice@example.com');
  cleanups.push(async () => {
    await store.close().catch(() => {});
    await fs.rm(root, { recursive: true, force: true });
  });
  const blobs = store.context.blobs as MirroredBlobStore;
  return { root, mirrors, log, store, account, blobs };
}

function failingFileSystem(): BlobFileSystem {
  const failure = () => Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  return {
    open: async () => {
      throw failure();
    },
    rename: async () => {
      throw failure();
    },
    syncDirectory: async () => {
      throw failure();
    },
  };
}

test('every write is in every mirror before it is acknowledged', async () => {
  const { account, blobs } = await mirroredStore();
  const message = sampleMessage({ size: 30_000 });
  const appended = await account.append('INBOX', message);
  assert.equal(blobs.mirrors.length, 2);
  for (const mirror of blobs.mirrors) assert.deepEqual(await fs.readFile(mirror.pathOf(appended.blobHash)), message);
});

test('a bad or missing primary copy is rewritten from a mirror on read, and the read gets the right bytes', async () => {
  const { account, blobs, log } = await mirroredStore();
  const message = sampleMessage({ size: 5000 });
  const appended = await account.append('INBOX', message);
  const file = blobs.pathOf(appended.blobHash);
  const bytes = await fs.readFile(file);
  bytes[100]! ^= 0x08;
  await fs.writeFile(file, bytes);
  assert.deepEqual(await account.readMessage(appended.mailboxId, appended.uid), message);
  assert.deepEqual(await fs.readFile(file), message, 'the primary copy was rewritten');
  assert.ok(log.events.some((event) => event.event === 'integrity.repaired' && event.fields.blob === appended.blobHash));
  await fs.rm(file);
  const chunks: Buffer[] = [];
  for await (const chunk of await account.openMessage(appended.mailboxId, appended.uid)) chunks.push(chunk as Buffer);
  assert.deepEqual(Buffer.concat(chunks), message);
  assert.equal(await blobs.verify(appended.blobHash), true);
});

test('a read that finds a bad mirror copy on its way to a good one heals that mirror too', async () => {
  const { account, blobs, log } = await mirroredStore();
  const message = sampleMessage({ size: 7000 });
  const appended = await account.append('INBOX', message);
  // The primary is flipped, the first mirror truncated: only the second mirror is good.
  const primary = await fs.readFile(blobs.pathOf(appended.blobHash));
  primary[42]! ^= 0x01;
  await fs.writeFile(blobs.pathOf(appended.blobHash), primary);
  await fs.truncate(blobs.mirrors[0]!.pathOf(appended.blobHash), 100);
  assert.deepEqual(await account.readMessage(appended.mailboxId, appended.uid), message);
  assert.equal(await blobs.verify(appended.blobHash), true, 'the primary was rewritten');
  assert.equal(await blobs.mirrors[0]!.verify(appended.blobHash), true, 'the bad mirror copy was rewritten');
  assert.equal(await blobs.mirrors[1]!.verify(appended.blobHash), true);
  const repairs = log.events.filter((event) => event.event === 'integrity.repaired' && event.fields.blob === appended.blobHash);
  assert.deepEqual(repairs.map((event) => event.fields.copy).sort(), [blobs.mirrors[0]!.root, 'primary'].sort());
  assert.ok(repairs.every((event) => event.fields.from === blobs.mirrors[1]!.root));
});

test('the acknowledgement waits for the configured number of durable copies', async () => {
  const all = await mirroredStore();
  all.blobs.mirrors[1]!.fileSystem = failingFileSystem();
  await assert.rejects(all.account.append('INBOX', sampleMessage()), /EIO/, 'all copies required: one failing mirror refuses the write');
  assert.equal((await all.account.getMailbox('INBOX')).messages, 0);

  const two = await mirroredStore({ acknowledgeAfterCopies: 2 });
  two.blobs.mirrors[1]!.fileSystem = failingFileSystem();
  const appended = await two.account.append('INBOX', sampleMessage());
  assert.equal(await two.blobs.mirrors[0]!.verify(appended.blobHash), true);
  assert.ok(two.log.events.some((event) => event.event === 'integrity.mirror_write_failed'));
  assert.throws(() => new MirroredBlobStore(two.root, [two.root], two.log, { acknowledgeAfterCopies: 3 }), /between 1 and 2/);
});

test('audit compares every copy and repair rewrites a bad mirror copy from the primary', async () => {
  const { account, blobs, store } = await mirroredStore();
  const appended = await account.append('INBOX', sampleMessage());
  await fs.writeFile(blobs.mirrors[0]!.pathOf(appended.blobHash), 'rot');
  await fs.rm(blobs.mirrors[1]!.pathOf(appended.blobHash));
  const found = await auditStore(store);
  assert.deepEqual(found.findings.map((finding) => finding.kind).sort(), ['blob.mirror_mismatch', 'blob.mirror_missing']);
  const repaired = await auditStore(store, { repair: true });
  assert.equal(repaired.ok, true, JSON.stringify(repaired.findings));
  for (const mirror of blobs.mirrors) assert.equal(await mirror.verify(appended.blobHash), true);
});

async function scrubFixture(store: SqliteMailStore, megabytesPerSecond: number) {
  const log = createMemoryLogger();
  const scrubber = startScrub(store.integrity, { periodDays: 7, megabytesPerSecond, log }, false);
  cleanups.unshift(() => scrubber.stop());
  return { scrubber, log };
}

test('the scrub finds a bad copy by itself and repairs it from a good one', async () => {
  const { account, blobs, store } = await mirroredStore();
  const appended = [];
  for (let index = 0; index < 3; index++) appended.push(await account.append('INBOX', sampleMessage()));
  await fs.writeFile(blobs.pathOf(appended[0]!.blobHash), 'rot');
  await fs.rm(blobs.mirrors[0]!.pathOf(appended[2]!.blobHash));
  const { scrubber, log } = await scrubFixture(store, 1000);
  const pass = await scrubber.runPass();
  assert.equal(pass.blobs, 3);
  assert.equal(pass.problems, 2);
  assert.equal(pass.repaired, 2);
  assert.equal(await blobs.verify(appended[0]!.blobHash), true);
  assert.equal(await blobs.mirrors[0]!.verify(appended[2]!.blobHash), true);
  assert.equal(log.events.filter((event) => event.event === 'integrity.scrub_finding').length, 2);
  assert.ok(log.events.some((event) => event.event === 'integrity.scrub_completed'));
});

test('the scrub rewrites a bit-flipped mirror copy and logs integrity.repaired', async () => {
  const { account, blobs, store } = await mirroredStore();
  const appended = await account.append('INBOX', sampleMessage({ size: 3000 }));
  const file = blobs.mirrors[1]!.pathOf(appended.blobHash);
  const bytes = await fs.readFile(file);
  bytes[7]! ^= 0x80;
  await fs.writeFile(file, bytes);
  const { scrubber, log } = await scrubFixture(store, 1000);
  const pass = await scrubber.runPass();
  assert.deepEqual([pass.problems, pass.repaired], [1, 1]);
  assert.equal(await blobs.mirrors[1]!.verify(appended.blobHash), true);
  assert.ok(log.events.some((event) => event.event === 'integrity.repaired' && event.fields.copy === blobs.mirrors[1]!.root));
  assert.equal((await fs.readdir(path.join(blobs.mirrors[1]!.root, 'quarantine'))).length, 1, 'the bad copy was kept aside, not deleted');
});

test('the scrub keeps to its I/O budget', async () => {
  const { account, store } = await mirroredStore();
  for (let index = 0; index < 3; index++) await account.append('INBOX', sampleMessage({ size: 20_000 }));
  // About 60 KB in three copies at 0.1 MB/s: no less than 1.8 s.
  const { scrubber } = await scrubFixture(store, 0.1);
  const pass = await scrubber.runPass();
  assert.ok(pass.bytes >= 180_000, String(pass.bytes));
  // Only the lower bound: a loaded machine may be slower, never faster than the budget.
  assert.ok(pass.seconds >= 1.7, `took ${pass.seconds} s`);
});

test('config: mirrors are resolved beside the file; more copies than exist is refused', async () => {
  const root = await temporaryDirectory('postkeep-mirror-config-');
  cleanups.push(() => fs.rm(root, { recursive: true, force: true }));
  const file = path.join(root, 'postkeep.toml');
  await fs.writeFile(file, '[store]\nblobMirrors = ["disk2/blobs"]\nacknowledgeAfterCopies = 2\nscrubDays = 3\n');
  const { config } = loadConfig(file, {});
  assert.deepEqual(config.store.blobMirrors, [path.join(root, 'disk2/blobs')]);
  assert.equal(config.store.scrubMegabytesPerSecond, 20);
  await fs.writeFile(file, '[store]\nblobMirrors = ["disk2"]\nacknowledgeAfterCopies = 3\n');
  assert.throws(() => loadConfig(file, {}), /store\.acknowledgeAfterCopies is 3, but there are only 2 copies/);
});

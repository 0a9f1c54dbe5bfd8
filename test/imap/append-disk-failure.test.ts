// APPEND on a full, read-only or failing disk (issue 11 item 10): nothing is stored and
// the client is told it is the server's trouble and temporary — RFC 5530 §3 LIMIT for
// no space, UNAVAILABLE for a read-only or failing device — not SERVERBUG. The failures
// are injected at the blob store's file-system seam (tests run as root, so chmod would
// not stop the writes); the error codes are the ones the kernel gives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { failingFileSystem, type FailingCall } from '../helpers/failing-file-system.js';
import { storageFailure } from '../../src/store/storage-failure.js';
import { RawClient, startTestServer, type TestServer } from './server-harness.js';

let server: TestServer;
let client: RawClient;

before(async () => {
  server = await startTestServer();
  client = await RawClient.connect(server);
  await client.login();
});

after(async () => {
  client.close();
  await server.stop();
});


async function appendWith(code: string, where: FailingCall, tag: string): Promise<string> {
  const blobs = server.store.context.blobs;
  const real = blobs.fileSystem;
  const message = `Subject: ${tag}\r\n\r\n${'a line of the message\r\n'.repeat(200)}`;
  blobs.fileSystem = failingFileSystem(real, code, where);
  try {
    return await client.command(tag, `APPEND INBOX {${message.length}+}\r\n${message}`);
  } finally {
    blobs.fileSystem = real;
  }
}

for (const [code, where, answer] of [
  ['ENOSPC', 'write', 'LIMIT'],
  ['EDQUOT', 'write', 'LIMIT'],
  ['EROFS', 'open', 'UNAVAILABLE'],
  ['EIO', 'sync', 'UNAVAILABLE'],
] as const) {
  test(`${code} at the blob's ${where}: NO [${answer}], nothing stored, logged, and the next APPEND works`, async () => {
    const before = await server.account.getMailbox('INBOX');
    const reply = await appendWith(code, where, `f-${code}`);
    assert.match(reply, new RegExp(`^f-${code} NO \\[${answer}\\] `, 'm'));
    assert.doesNotMatch(reply, /SERVERBUG/);
    const afterwards = await server.account.getMailbox('INBOX');
    assert.equal(afterwards.messages, before.messages);
    assert.equal(afterwards.uidNext, before.uidNext);
    assert.ok(server.log.events.some((entry) => entry.event === 'imap.storage_failed' && String(entry.fields.error).includes(code)));
    assert.match(await client.command(`ok-${code}`, 'APPEND INBOX {20+}\r\nSubject: x\r\n\r\nhello!\r\n'), new RegExp(`^ok-${code} OK \\[APPENDUID `, 'm'));
  });
}

test('the database engine’s codes for the same troubles are read alike', () => {
  const sqlite = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(storageFailure(sqlite('SQLITE_FULL')), 'full');
  assert.equal(storageFailure(sqlite('SQLITE_READONLY_DBMOVED')), 'unavailable');
  assert.equal(storageFailure(sqlite('SQLITE_IOERR_WRITE')), 'unavailable');
  assert.equal(storageFailure(new Error('wrapped', { cause: sqlite('ENOSPC') })), 'full');
  assert.equal(storageFailure(sqlite('SQLITE_CONSTRAINT_UNIQUE')), null);
  assert.equal(storageFailure(new Error('no code')), null);
});

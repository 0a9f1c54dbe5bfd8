// A delivery after DATA on a full disk is 452 4.3.1 (RFC 5321 §4.2.2 "insufficient system
// storage", RFC 3463 X.3.1 "mail system full"); on a read-only or failing one it stays
// 451 4.3.0. Both are transient: nothing is stored, the failure is logged for the
// operator, and the next delivery works. The errno is injected at the blob store's
// file-system seam, as test/imap/append-disk-failure.test.ts does (tests run as root, so
// chmod would not stop the writes); the codes are the ones the kernel gives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { failingFileSystem, type FailingCall } from '../helpers/failing-file-system.js';
import { RawSmtpClient } from './raw-smtp-client.js';
import { startHarness, type Harness } from './smtp-harness.js';

let harness: Harness;

before(async () => {
  harness = await startHarness({
    smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 } },
    zone: { 'example.org': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } },
  });
});

after(async () => harness.close());

function deliver(subject: string): Promise<string> {
  return RawSmtpClient.sendMessage(harness.mxPort, `From: carol@example.org\r\nTo: alice@example.com\r\nSubject: ${subject}\r\n\r\n${'a line of the message\r\n'.repeat(200)}`);
}

for (const [code, where, expected] of [
  ['ENOSPC', 'write', '452 4.3.1'],
  ['EDQUOT', 'write', '452 4.3.1'],
  ['EROFS', 'open', '451 4.3.0'],
  ['EIO', 'sync', '451 4.3.0'],
] as const) {
  const reply = new RegExp(`^${expected.replace(/\./g, '\\.')} `);
  test(`${code} at the blob's ${where}: ${expected}, nothing stored, logged, and the next delivery works`, async () => {
    const blobs = harness.store.context.blobs;
    const real = blobs.fileSystem;
    const before = await harness.account.getMailbox('INBOX');
    blobs.fileSystem = failingFileSystem(real, code, where);
    let answer: string;
    try {
      answer = await deliver(`fails with ${code}`);
    } finally {
      blobs.fileSystem = real;
    }
    assert.match(answer, reply);
    const afterwards = await harness.account.getMailbox('INBOX');
    assert.equal(afterwards.messages, before.messages);
    assert.equal(afterwards.uidNext, before.uidNext);
    const logged = harness.log.events.find((entry) => entry.event === 'smtp.storage_failed' && String(entry.fields.error).includes(code));
    assert.ok(logged, `smtp.storage_failed for ${code}`);
    assert.equal(logged.fields.failure, code === 'ENOSPC' || code === 'EDQUOT' ? 'full' : 'unavailable');
    assert.match(await deliver(`works after ${code}`), /^250 /);
    assert.equal((await harness.account.getMailbox('INBOX')).messages, before.messages + 1);
  });
}

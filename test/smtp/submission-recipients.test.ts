// Submission to local and remote recipients at once: local copies are committed
// before the remote ones are queued, so a transient store failure is a 4xx with
// nothing accepted (no remote copy queued, no bounce), and the retry delivers
// each copy once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BlobFileSystem } from '../../src/store/blobs/file-blob-store.js';
import { password, python, startHarness, type Harness } from './smtp-harness.js';

let harness: Harness;

before(async () => {
  // remote.test has no MX in the zone: a queued copy stays in the queue, waiting for its next try.
  harness = await startHarness({ outbound: { retryBaseSeconds: 3600, retryMaxSeconds: 3600 } });
});

after(async () => {
  await harness.close();
});

function submit(subject: string): Promise<{ stdout: string }> {
  return python(
    `
s = smtplib.SMTP('127.0.0.1', PORT, timeout=20)
s.ehlo('client.example.org')
s.starttls(context=ssl._create_unverified_context())
s.ehlo('client.example.org')
s.login('alice@example.com', '${password}')
message = 'From: alice@example.com\\r\\nTo: bob@example.com, carol@remote.test\\r\\nSubject: ${subject}\\r\\n\\r\\nHello.\\r\\n'
try:
    s.sendmail('alice@example.com', ['bob@example.com', 'carol@remote.test'], message)
    print('accepted')
except smtplib.SMTPDataError as error:
    print('refused', error.smtp_code)
s.quit()
`,
    harness.submissionPort,
  );
}

test('a transient local failure refuses the whole message (451) and queues nothing; the retry delivers each copy once', async () => {
  const blobs = harness.store.context.blobs;
  const real = blobs.fileSystem;
  const failing: BlobFileSystem = {
    open: async (file, flags, mode) => {
      const handle = await real.open(file, flags, mode);
      return { write: (buffer, offset, length) => handle.write(buffer, offset, length), sync: () => Promise.reject(Object.assign(new Error('EIO: injected'), { code: 'EIO' })), close: () => handle.close() };
    },
    rename: real.rename,
    syncDirectory: real.syncDirectory,
  };
  const bob = await harness.store.account('bob@example.com');
  const alice = harness.account;
  const aliceBefore = (await alice.getMailbox('INBOX')).messages;

  blobs.fileSystem = failing;
  let first: { stdout: string };
  try {
    first = await submit('first try');
  } finally {
    blobs.fileSystem = real;
  }
  assert.equal(first.stdout.trim(), 'refused 451', first.stdout);
  assert.equal((await harness.store.outbound.list()).length, 0, 'no remote copy queued');
  assert.equal((await bob.getMailbox('INBOX')).messages, 0, 'no local copy');
  // No DSN to the sender either: nothing was accepted.
  assert.equal((await alice.getMailbox('INBOX')).messages, aliceBefore);

  const second = await submit('second try');
  assert.equal(second.stdout.trim(), 'accepted', second.stdout);
  assert.equal((await bob.getMailbox('INBOX')).messages, 1);
  const queued = await harness.store.outbound.list();
  assert.equal(queued.length, 1);
  assert.deepEqual(queued[0]!.recipients.map((recipient) => recipient.address), ['carol@remote.test']);
  assert.equal((await alice.getMailbox('INBOX')).messages, aliceBefore);
});

// An imported mbox message is stored as RFC 5322 wants it: CRLF line ends, and
// without the Status:/X-Status:/X-Keywords: (…) fields that became its flags; IMAP
// then serves those bytes, not the mbox's bare LF lines.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { imapflow, login, startTestServer } from '../imap/server-harness.js';

const mbox =
  'From alice@example.org Mon Jan  1 10:00:00 2024\n' +
  'From: alice@example.org\nSubject: one\nStatus: RO\nX-Status: AF\nX-Keywords: $Forwarded,\n  Work\nX-UID: 17\nContent-Length: 61\nTo: bob@example.org\n\n' +
  '>From the top, a quoted line.\nStatus: kept, this is the body\n\nlast line\n\n' +
  'From bob@example.org Tue Jan  2 10:00:00 2024\n' +
  'From: bob@example.org\r\nSubject: two\r\nX-Mozilla-Status: 0001\r\nX-Mozilla-Status2: 00000000\r\n\r\nalready CRLF\r\n\n' +
  'From carol@example.org Wed Jan  3 10:00:00 2024\n' +
  'Subject: three\nStatus: O\n\nmixed\r\nends\n';

const expected = [
  'From: alice@example.org\r\nSubject: one\r\nTo: bob@example.org\r\n\r\nFrom the top, a quoted line.\r\nStatus: kept, this is the body\r\n\r\nlast line\r\n',
  'From: bob@example.org\r\nSubject: two\r\n\r\nalready CRLF\r\n',
  'Subject: three\r\n\r\nmixed\r\nends\r\n',
];

test('mbox import stores CRLF lines without the mbox status fields, and IMAP serves them so', { timeout: 120_000 }, async () => {
  const server = await startTestServer();
  const client = imapflow(server);
  try {
    const file = path.join(server.dataDir, '..', `${path.basename(server.dataDir)}.mbox`);
    await fs.writeFile(file, mbox);
    const env = { POSTKEEP_DATA: server.dataDir, POSTKEEP_CONFIG: '' };
    const imported = await runCli(['import', login, file, '--mailbox', 'Old'], { env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^mbox: 3 imported, 0 already present/);
    // Stored in canonical form, a second run finds the same bytes and adds nothing.
    assert.match((await runCli(['import', login, file, '--mailbox', 'Old'], { env })).stdout, /^mbox: 0 imported, 3 already present/);
    await fs.rm(file);

    await client.connect();
    const lock = await client.getMailboxLock('Old');
    try {
      const messages = [];
      for await (const message of client.fetch('1:*', { source: true, flags: true, size: true }, { uid: true })) messages.push(message);
      assert.equal(messages.length, 3);
      for (const [index, message] of messages.entries()) {
        const source = message.source!.toString('latin1');
        assert.equal(source, expected[index]);
        assert.doesNotMatch(source, /(^|[^\r])\n/, 'no bare LF');
        assert.equal(message.size, message.source!.length, 'RFC822.SIZE counts the stored CRLF bytes');
      }
      assert.deepEqual([...messages[0]!.flags!].sort(), ['$Forwarded', 'Work', '\\Answered', '\\Flagged', '\\Seen']);
      assert.deepEqual([...messages[1]!.flags!], ['\\Seen']);
      assert.deepEqual([...messages[2]!.flags!], []);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => {});
    await server.stop();
  }
});

// End to end through the whole server (startServer, as `postkeep start` runs it):
// a message submitted on the STARTTLS submission port to a local and a remote
// recipient is visible over IMAP in the local INBOX and arrives at the remote MX,
// a second SMTP server on loopback found through the injected DNS zone.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { SMTPServer } from 'smtp-server';
import { hashPassword } from '../../src/auth/password.js';
import { configSchema } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer } from '../../src/server/server.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { password, python } from './smtp-harness.js';

test('submission on the STARTTLS port to a local and a remote recipient: in the INBOX over IMAP and at the remote MX', { timeout: 60_000 }, async () => {
  const arrived: { to: string[]; message: string }[] = [];
  const remote = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      let message = '';
      stream.on('data', (chunk: Buffer) => (message += chunk.toString()));
      stream.on('end', () => {
        arrived.push({ to: session.envelope.rcptTo.map((entry) => entry.address), message });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const dataDir = await temporaryDirectory('postkeep-e2e-');
  const config = configSchema.parse({
    dataDir,
    hostname: 'mx.example.com',
    smtp: { mx: { port: 0 }, submission: { port: 0 }, submissions: { port: 0 } },
    imap: { port: 0, tlsPort: 0 },
    admin: { port: 0 },
    outbound: { port: (remote.server.address() as { port: number }).port },
  });
  const resolver = staticResolver({ 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } });
  const server = await startServer(config, createMemoryLogger(), { smtp: { resolver } });
  try {
    await server.store.admin.addDomain('example.com');
    await server.store.admin.addAccount('alice@example.com', await hashPassword(password));
    await server.store.admin.addAccount('bob@example.com', await hashPassword(password));
    const result = await python(
      `
s = smtplib.SMTP('127.0.0.1', PORT, timeout=20)
s.starttls(context=ssl._create_unverified_context())
s.login('alice@example.com', '${password}')
msg = b'From: Alice <alice@example.com>\\r\\nTo: bob@example.com, carol@remote.test\\r\\nSubject: end to end\\r\\nMessage-ID: <e2e@example.com>\\r\\n\\r\\nAcross the whole server.\\r\\n'
print(s.sendmail('alice@example.com', ['bob@example.com', 'carol@remote.test'], msg))
s.quit()
`,
      server.smtp.listeners.submission!.port,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '{}', 'both recipients accepted');

    assert.ok(server.imap, 'the IMAP listener runs');
    const client = new ImapFlow({ host: '127.0.0.1', port: server.imap.tlsPort!, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'bob@example.com', pass: password }, logger: false });
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const messages = [];
        for await (const message of client.fetch('1:*', { envelope: true, source: true })) messages.push(message);
        assert.equal(messages.length, 1);
        assert.equal(messages[0]!.envelope?.subject, 'end to end');
        assert.match(messages[0]!.source!.toString(), /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.com \(Postkeep\) with ESMTPSA/);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }

    const deadline = Date.now() + 20_000;
    while (arrived.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(arrived.length, 1);
    assert.deepEqual(arrived[0]!.to, ['carol@remote.test']);
    assert.match(arrived[0]!.message, /Subject: end to end/);
  } finally {
    await server.stop();
    await new Promise<void>((resolve) => remote.close(() => resolve()));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

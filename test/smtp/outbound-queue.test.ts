// The outbound queue in the store: durable across reopen, its file removed once
// no recipient is left, shared bytes kept while another entry needs them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { createMemoryLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

async function queueFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'queue');
  const names: string[] = [];
  for (const entry of await fs.readdir(root)) {
    if (!/^[0-9a-f]{2}$/.test(entry)) continue;
    names.push(...(await fs.readdir(path.join(root, entry))));
  }
  return names;
}

test('a queued message survives a reopen, reads back verified, and its file goes with its last recipient', async () => {
  const temporary = await createTemporaryStore();
  try {
    const bytes = Buffer.from('From: alice@example.com\r\nSubject: out\r\n\r\nBody.\r\n');
    const first = await temporary.store.outbound.enqueue(bytes, { sender: 'alice@example.com', recipients: ['a@remote.test', 'b@remote.test', 'a@remote.test'] }, { expiresAt: new Date(Date.now() + 60_000) });
    const second = await temporary.store.outbound.enqueue(bytes, { sender: 'alice@example.com', recipients: ['c@remote.test'] }, { expiresAt: new Date(Date.now() + 60_000) });
    assert.deepEqual(first.recipients.map((recipient) => recipient.address), ['a@remote.test', 'b@remote.test'], 'duplicates collapse');
    await temporary.store.close();

    const store = await openStore({ dataDir: temporary.dataDir, log: createMemoryLogger() });
    temporary.store = store;
    assert.equal((await store.outbound.list()).length, 2);
    const stream = await store.outbound.open(first.id);
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    assert.deepEqual(Buffer.concat(chunks), bytes);
    assert.equal((await queueFiles(temporary.dataDir)).length, 1, 'the same bytes are stored once');

    await store.outbound.recordAttempt(first.id, [
      { address: 'a@remote.test', outcome: 'sent' },
      { address: 'b@remote.test', outcome: 'failed', error: '550 5.1.1 No such user' },
    ]);
    assert.equal(await store.outbound.get(first.id), null, 'no recipient left: the entry is gone');
    assert.equal((await queueFiles(temporary.dataDir)).length, 1, 'the other entry still needs the file');
    assert.equal(await store.outbound.remove(second.id), true);
    assert.deepEqual(await queueFiles(temporary.dataDir), []);
    assert.equal(await store.outbound.remove(second.id), false);
    await assert.rejects(store.outbound.enqueue(bytes, { sender: '', recipients: ['no-domain'] }, { expiresAt: new Date() }), /not an address with a domain/);
  } finally {
    await temporary.dispose();
  }
});

test('an unreachable remote is retried until the message expires, then the sender gets a DSN', async () => {
  const { QueueRunner } = await import('../../src/smtp/outbound/queue-runner.js');
  const { staticResolver } = await import('../../src/smtp/dns-resolver.js');
  const { configSchema } = await import('../../src/config/schema.js');
  const net = await import('node:net');
  // A port on loopback where nothing listens.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const temporary = await createTemporaryStore();
  try {
    const settings = configSchema.parse({ outbound: { port: closedPort, retryBaseSeconds: 0.05, retryMaxSeconds: 0.05, timeoutSeconds: 5 } }).outbound;
    const resolver = staticResolver({ 'remote.test': { A: ['127.0.0.1'] } });
    const runner = new QueueRunner({ store: temporary.store, log: temporary.log, hostname: 'mx.example.com', resolver, settings });
    const message = Buffer.from('From: alice@example.com\r\nTo: carol@remote.test\r\nSubject: never arrives\r\n\r\nHello.\r\n');
    const queued = await temporary.store.outbound.enqueue(message, { sender: 'alice@example.com', recipients: ['carol@remote.test'] }, { expiresAt: new Date(Date.now() + 400) });
    await runner.runOnce();
    await runner.idle();
    const deferred = (await temporary.store.outbound.get(queued.id))!.recipients[0]!;
    assert.equal(deferred.state, 'queued');
    assert.equal(deferred.attempts, 1);
    assert.match(deferred.lastError ?? '', /ECONNREFUSED/);
    await new Promise((resolve) => setTimeout(resolve, 450));
    await runner.runOnce();
    await runner.idle();
    assert.equal(await temporary.store.outbound.get(queued.id), null);
    const inbox = await temporary.account.getMailbox('INBOX');
    assert.equal(inbox.messages, 1);
    const [record] = await temporary.account.fetch(inbox.id, {});
    const dsn = (await temporary.account.readMessage(inbox.id, record!.uid)).toString();
    assert.match(dsn, /Final-Recipient: rfc822; carol@remote\.test\r\nAction: failed\r\nStatus: 4\.4\.7\r\nDiagnostic-Code: smtp; expired after/);
    assert.match(dsn, /Subject: never arrives/);
    await runner.stop();
  } finally {
    await temporary.dispose();
  }
});

test('a queued file that fails verification is never sent; at expiry the sender gets a DSN without its headers and the entry ends', async () => {
  const { QueueRunner } = await import('../../src/smtp/outbound/queue-runner.js');
  const { staticResolver } = await import('../../src/smtp/dns-resolver.js');
  const { configSchema } = await import('../../src/config/schema.js');
  const temporary = await createTemporaryStore();
  const { SMTPServer } = await import('smtp-server');
  // A remote that accepts anything: the bad bytes must never reach it.
  const received: string[] = [];
  const remote = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => {
        received.push(text);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  try {
    const settings = configSchema.parse({ outbound: { port: (remote.server.address() as { port: number }).port, retryBaseSeconds: 0.05, retryMaxSeconds: 0.05, timeoutSeconds: 5 } }).outbound;
    const runner = new QueueRunner({ store: temporary.store, log: temporary.log, hostname: 'mx.example.com', resolver: staticResolver({ 'remote.test': { A: ['127.0.0.1'] } }), settings });
    const message = Buffer.from('From: alice@example.com\r\nTo: carol@remote.test\r\nSubject: damaged on disk\r\n\r\nHello.\r\n');
    const queued = await temporary.store.outbound.enqueue(message, { sender: 'alice@example.com', recipients: ['carol@remote.test'] }, { expiresAt: new Date(Date.now() + 100) });
    const [file] = await queueFiles(temporary.dataDir);
    await fs.writeFile(path.join(temporary.dataDir, 'queue', file!.slice(0, 2), file!), 'Subject: not what was queued\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await runner.runOnce();
    await runner.idle();
    await runner.stop();

    assert.deepEqual(received, [], 'nothing was sent to the remote');
    assert.equal(await temporary.store.outbound.get(queued.id), null, 'the entry ended');
    const inbox = await temporary.account.getMailbox('INBOX');
    assert.equal(inbox.messages, 1);
    const [record] = await temporary.account.fetch(inbox.id, {});
    const dsn = (await temporary.account.readMessage(inbox.id, record!.uid)).toString();
    assert.match(dsn, /Final-Recipient: rfc822; carol@remote\.test\r\nAction: failed\r\n/);
    assert.doesNotMatch(dsn, /not what was queued/);
    assert.ok(temporary.log.events.some((event) => event.event === 'integrity.blob_mismatch'), 'the bad file was reported');
    assert.ok(temporary.log.events.some((event) => event.event === 'queue.message_unreadable'));
  } finally {
    await new Promise<void>((resolve) => remote.close(() => resolve()));
    await temporary.dispose();
  }
});

// `postkeep dkim generate|list` and `postkeep queue list|retry|delete`, run as the real command.
import assert from 'node:assert/strict';
import { createPublicKey, createSign, createVerify } from 'node:crypto';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import { runCli } from '../helpers/run-cli.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

test('dkim generate stores a key and prints the TXT record whose public key matches it', async () => {
  const temporary = await createTemporaryStore();
  await temporary.store.close();
  const env = { POSTKEEP_DATA: temporary.dataDir, POSTKEEP_CONFIG: '' };
  try {
    const result = await runCli(['dkim', 'generate', 'Example.com', '--selector', 'mail2026'], { env });
    assert.equal(result.code, 0, result.stderr);
    // RFC 1035 §3.3.14: strings of at most 255 bytes, which DNS joins back into one value.
    const record = /^mail2026\._domainkey\.example\.com\. IN TXT ((?:"[^"]*" ?)+)$/m.exec(result.stdout);
    assert.ok(record, result.stdout);
    const strings = [...record[1]!.matchAll(/"([^"]*)"/g)].map((item) => item[1]!);
    assert.ok(strings.length >= 2 && strings.every((item) => item.length <= 255), `${strings.map((item) => item.length)} bytes`);
    const match = /^v=DKIM1; k=rsa; p=([A-Za-z0-9+/=]+)$/.exec(strings.join(''));
    assert.ok(match, strings.join(''));
    const store = await openStore({ dataDir: temporary.dataDir, log: createLogger({ level: 'error' }) });
    const key = await store.dkimKeys.get('example.com');
    await store.close();
    assert.equal(key?.selector, 'mail2026');
    const signature = createSign('sha256').update('probe').sign(key!.privateKey);
    const publicKey = createPublicKey({ key: Buffer.from(match[1]!, 'base64'), format: 'der', type: 'spki' });
    assert.ok(createVerify('sha256').update('probe').verify(publicKey, signature), 'the printed public key belongs to the stored private key');
    const listed = await runCli(['dkim', 'list'], { env });
    assert.equal(listed.stdout, 'example.com mail2026\n');
    const bad = await runCli(['dkim', 'generate', 'example.com', '--selector', 'bad selector!'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^postkeep: not a valid DKIM selector/);
  } finally {
    await temporary.dispose();
  }
});

test('queue list shows each recipient; retry makes it due now; delete drops it', async () => {
  const temporary = await createTemporaryStore();
  const message = Buffer.from('From: alice@example.com\r\nTo: carol@remote.test\r\nSubject: queued\r\n\r\nHello.\r\n');
  const queued = await temporary.store.outbound.enqueue(message, { sender: 'alice@example.com', recipients: ['carol@remote.test', 'dave@other.test'] }, { expiresAt: new Date(Date.now() + 86_400_000) });
  const later = new Date(Date.now() + 3_600_000);
  await temporary.store.outbound.recordAttempt(queued.id, [{ address: 'carol@remote.test', outcome: 'deferred', error: '451 4.2.0 Try again later', nextAttemptAt: later }]);
  await temporary.store.close();
  const env = { POSTKEEP_DATA: temporary.dataDir, POSTKEEP_CONFIG: '' };
  try {
    const listed = await runCli(['queue', 'list'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${queued.id} from <alice@example\\.com> ${message.length} bytes queued `, 'm'));
    assert.match(listed.stdout, /^  carol@remote\.test queued attempts=1 next=\S+ last error: 451 4\.2\.0 Try again later$/m);
    assert.match(listed.stdout, /^  dave@other\.test queued attempts=0 next=/m);

    const retried = await runCli(['queue', 'retry', String(queued.id)], { env });
    assert.equal(retried.stdout, '2 recipients due now\n');
    const store = await openStore({ dataDir: temporary.dataDir, log: createLogger({ level: 'error' }) });
    assert.equal((await store.outbound.due(new Date(), 10)).length, 1);
    assert.ok((await store.outbound.get(queued.id))!.recipients.every((recipient) => recipient.nextAttemptAt.getTime() <= Date.now()));
    await store.close();

    assert.equal((await runCli(['queue', 'delete', String(queued.id)], { env })).stdout, `queued message ${queued.id} deleted\n`);
    assert.equal((await runCli(['queue', 'list'], { env })).stdout, 'the queue is empty\n');
    const missing = await runCli(['queue', 'delete', String(queued.id)], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^postkeep: there is no queued message/);
    const invalid = await runCli(['queue', 'retry', 'abc'], { env });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^postkeep: not a queue id/);

    // Like the HTTPS API, the CLI's changes to the queue are admin.* events in the security log; refusals are not.
    const reopened = await openStore({ dataDir: temporary.dataDir, log: createLogger({ level: 'error' }) });
    const actions = (await reopened.admin.readSecurityLog({ eventPrefixes: ['admin.'], limit: 10 })).map((entry) => { const fields = JSON.parse(entry.fields) as { id?: number; protocol?: string }; return [entry.event, fields.id, fields.protocol]; });
    await reopened.close();
    assert.deepEqual(actions, [
      ['admin.queue_retry', queued.id, 'cli'],
      ['admin.queue_delete', queued.id, 'cli'],
    ]);
  } finally {
    await temporary.dispose();
  }
});

// The admin API's queue and audit endpoints over real HTTPS, and how it answers
// bad requests: 400 for bad JSON, 413 for big bodies, 404/405 for unknown routes,
// never a stack trace.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import { securityEntries, startAdminHarness, type AdminHarness } from './admin-harness.js';

let harness: AdminHarness;
before(async () => {
  harness = await startAdminHarness();
});
after(async () => {
  await harness?.close();
});

const message = Buffer.from('From: alice@example.com\r\nTo: someone@remote.test\r\nSubject: queued\r\n\r\nHello.\r\n');

async function enqueue(): Promise<number> {
  const queued = await harness.store.outbound.enqueue(message, { sender: 'alice@example.com', recipients: ['someone@remote.test'] }, { expiresAt: new Date(Date.now() + 86_400_000) });
  // Not due for a day: the server's queue runner leaves it alone during the test.
  await harness.store.outbound.recordAttempt(queued.id, [{ address: 'someone@remote.test', outcome: 'deferred', error: '451 try later', nextAttemptAt: new Date(Date.now() + 86_400_000) }]);
  return queued.id;
}

test('queue: list, retry one, retry all, delete', async () => {
  const id = await enqueue();
  const listed = await harness.request('GET', '/queue', { token: harness.token });
  assert.equal(listed.status, 200, listed.text);
  const entry = listed.json.messages.find((item: { id: number }) => item.id === id);
  assert.equal(entry.sender, 'alice@example.com');
  assert.equal(entry.recipients[0].address, 'someone@remote.test');
  assert.equal(entry.recipients[0].lastError, '451 try later');
  const retried = await harness.request('POST', `/queue/${id}/retry`, { token: harness.token });
  assert.equal(retried.status, 200, retried.text);
  assert.equal(retried.json.recipientsDue, 1);
  const missing = await harness.request('POST', '/queue/999999/retry', { token: harness.token });
  assert.equal(missing.status, 404);
  const all = await harness.request('POST', '/queue/retry', { token: harness.token });
  assert.equal(all.status, 200, all.text);
  assert.equal(typeof all.json.recipientsDue, 'number');
  const deleted = await harness.request('DELETE', `/queue/${id}`, { token: harness.token });
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal(await harness.store.outbound.get(id), null);
  assert.equal((await harness.request('DELETE', `/queue/${id}`, { token: harness.token })).status, 404);
  assert.equal((await harness.request('DELETE', '/queue/abc', { token: harness.token })).status, 400);
  const events = (await securityEntries(harness, 'admin.queue')).map((entry) => [entry.event, entry.data.id ?? null]);
  assert.deepEqual(events, [
    ['admin.queue_list', null],
    ['admin.queue_retry', id],
    ['admin.queue_retry', null],
    ['admin.queue_delete', id],
  ]);
});

test('audit: consistency, integrity events and the security log head', async () => {
  harness.server.securityLog.record('integrity.blob_mismatch', { blob: 'ab'.repeat(32), quarantined: '/tmp/x' });
  await harness.server.securityLog.flush();
  const response = await harness.request('GET', '/audit', { token: harness.token });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.consistency.ok, true);
  assert.deepEqual(response.json.consistency.problems, []);
  assert.equal(response.json.integrityEvents[0].event, 'integrity.blob_mismatch');
  assert.equal(response.json.securityLog.checked, 'head');
  assert.equal(response.json.securityLog.ok, true);
  const full = await harness.request('GET', '/audit?chain=full', { token: harness.token });
  assert.equal(full.json.securityLog.checked, 'full');
  assert.equal(full.json.securityLog.ok, true, JSON.stringify(full.json.securityLog));
  assert.ok(full.json.securityLog.entries >= 2);
  // A broken derived value shows up in the consistency part.
  harness.store.context.db.prepare("UPDATE accounts SET used_messages = used_messages + 7 WHERE login = 'bob@example.com'").run();
  const broken = await harness.request('GET', '/audit', { token: harness.token });
  assert.equal(broken.json.consistency.ok, false);
  assert.ok(broken.json.consistency.problemCount >= 1);
  harness.store.context.db.prepare("UPDATE accounts SET used_messages = used_messages - 7 WHERE login = 'bob@example.com'").run();
});

test('bad JSON is a 400 that says so; a big body a 413; unknown routes 404, wrong methods 405', async () => {
  const badJson = await harness.request('POST', '/accounts', { token: harness.token, rawBody: '{"login": "x@example.com", ' });
  assert.equal(badJson.status, 400);
  assert.match(badJson.json.error, /^the body is not valid JSON/);
  const notObject = await harness.request('POST', '/accounts', { token: harness.token, rawBody: '[1, 2]' });
  assert.equal(notObject.status, 400);
  assert.equal(notObject.json.error, 'the body must be a JSON object');
  const big = await harness.request('POST', '/accounts', { token: harness.token, rawBody: JSON.stringify({ login: 'x@example.com', password: 'p'.repeat(200_000) }) }).catch((error: Error) => error);
  // The server answers 413 and closes; a client still sending may see the reset instead.
  if (!(big instanceof Error)) assert.equal(big.status, 413);
  const unknown = await harness.request('GET', '/nothing/here', { token: harness.token });
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error, /there is no endpoint GET \/nothing\/here/);
  const wrongMethod = await harness.request('PATCH', '/accounts', { token: harness.token });
  assert.equal(wrongMethod.status, 405);
  const badEscape = await harness.request('DELETE', '/accounts/%E0%A4%A', { token: harness.token });
  assert.equal(badEscape.status, 400);
  for (const response of [badJson, notObject, unknown, wrongMethod, badEscape]) {
    assert.ok(!/\bat .*\.ts:\d+/.test(response.text), `no stack trace: ${response.text}`);
    assert.deepEqual(Object.keys(response.json), ['error']);
  }
  // The server is still fine afterwards.
  assert.equal((await harness.request('GET', '/accounts', { token: harness.token })).status, 200);
});

test('the admin listener speaks only TLS: a plain HTTP request gets no HTTP answer', async () => {
  const answer = await new Promise<string>((resolve) => {
    const socket = net.connect(harness.port, '127.0.0.1', () => socket.write(`GET /accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${harness.token}\r\n\r\n`));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
    socket.setTimeout(10_000, () => socket.destroy());
  });
  assert.ok(!answer.startsWith('HTTP/'), `answered in the clear: ${answer.slice(0, 80)}`);
  assert.ok(!answer.includes('alice@example.com'));
});

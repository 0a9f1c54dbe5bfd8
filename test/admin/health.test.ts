// The probe endpoints on the admin listener: /healthz/live and /healthz/ready need
// no credential and name no account; ready is 503 while the server stops and while
// the store refuses writes (the latch a failed log fsync sets).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreUnavailable } from '../../src/errors.js';
import { adminLogin, startAdminHarness, userLogin } from './admin-harness.js';
import { startHeldRequest } from './probe-client.js';

function assertNothingAboutAccounts(text: string): void {
  for (const secret of [adminLogin, userLogin, 'example.com', 'alice', 'bob']) assert.ok(!text.includes(secret), `the answer names ${secret}: ${text}`);
}

test('a running server: live and ready answer 200 without a credential, naming no account', async (t) => {
  const harness = await startAdminHarness();
  t.after(() => harness.close());
  const live = await harness.request('GET', '/healthz/live');
  assert.equal(live.status, 200);
  assert.deepEqual(live.json, { status: 'live' });
  const ready = await harness.request('GET', '/healthz/ready');
  assert.equal(ready.status, 200, ready.text);
  assert.deepEqual(ready.json, { status: 'ready', lifecycle: 'ready', store: 'writable' });
  assertNothingAboutAccounts(live.text + ready.text);
  assert.equal((await harness.request('POST', '/healthz/ready')).status, 405);
  // A probe is not an admin action: nothing about it is logged as admin.*.
  assert.equal(harness.log.events.filter((event) => event.event.startsWith('admin.')).length, 0);
});

test('ready answers 503 once the store refuses writes after a failed log fsync; live stays 200', async (t) => {
  const harness = await startAdminHarness();
  t.after(() => harness.close());
  const commit = harness.store.context.commit;
  const realSync = commit.syncLog;
  commit.syncLog = async () => {
    throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  };
  const account = await harness.store.account(userLogin);
  await assert.rejects(account.createMailbox('Doomed'), StoreUnavailable);
  commit.syncLog = realSync;
  const ready = await harness.request('GET', '/healthz/ready');
  assert.equal(ready.status, 503, ready.text);
  assert.deepEqual(ready.json, { status: 'not_ready', lifecycle: 'ready', store: 'writes_refused' });
  assertNothingAboutAccounts(ready.text);
  assert.equal((await harness.request('GET', '/healthz/live')).status, 200);
});

test('ready answers 503 while the server is stopping', async (t) => {
  const harness = await startAdminHarness();
  t.after(() => harness.close());
  // The request is in progress (so the stop does not close its connection as idle)
  // and is finished only after stop() began.
  const held = await startHeldRequest(harness.port, harness.ca, '/healthz/ready');
  const stopping = harness.server.stop();
  const answer = await held.finish();
  await stopping;
  assert.equal(answer.status, 503, answer.body);
  assert.deepEqual(JSON.parse(answer.body), { status: 'not_ready', lifecycle: 'stopping', store: 'writable' });
});

// The admin API's account endpoints over real HTTPS: list, create, set password,
// quota, delete; app passwords; 2FA reset; login history from the security log.
// Every action leaves an admin.<action> entry naming the actor.
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { after, before, test } from 'node:test';
import { beginEnrolment, confirmEnrolment } from '../../src/auth/second-factor.js';
import { verifyPassword } from '../../src/auth/password.js';
import { totp } from '../../src/auth/totp.js';
import { adminLogin, password, securityEntries, startAdminHarness, userLogin, type AdminHarness } from './admin-harness.js';

let harness: AdminHarness;
before(async () => {
  harness = await startAdminHarness();
});
after(async () => {
  await harness?.close();
});

/** A real IMAP LOGIN over implicit TLS; returns the tagged reply. */
async function imapLogin(login: string, secret: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port: harness.server.imap!.tlsPort!, ca: harness.ca, servername: 'localhost' });
  let received = '';
  let greeted = false;
  const reply = await new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (!greeted && received.includes('\r\n')) {
        greeted = true;
        socket.write(`a1 LOGIN "${login}" "${secret}"\r\n`);
      }
      const tagged = /a1 (OK|NO|BAD)[^\r]*\r\n/.exec(received);
      if (tagged) resolve(tagged[0].trim());
    });
    socket.on('error', reject);
  });
  socket.destroy();
  return reply;
}

test('GET /accounts lists the accounts', async () => {
  const response = await harness.request('GET', '/accounts', { token: harness.token });
  assert.equal(response.status, 200, response.text);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.deepEqual(
    response.json.accounts.map((account: { login: string }) => account.login),
    [adminLogin, userLogin],
  );
});

test('POST /accounts creates an account; a second time is a 409', async () => {
  const created = await harness.request('POST', '/accounts', { token: harness.token, body: { login: 'carol@example.com', password: 'a long enough password', quotaBytes: 1_000_000 } });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.account.login, 'carol@example.com');
  assert.equal(created.json.account.quotaBytes, 1_000_000);
  assert.ok(await verifyPassword((await harness.store.admin.getPasswordHash('carol@example.com'))!, 'a long enough password'));
  const again = await harness.request('POST', '/accounts', { token: harness.token, body: { login: 'carol@example.com', password: 'a long enough password' } });
  assert.equal(again.status, 409);
  assert.match(again.json.error, /already in use/);
  const short = await harness.request('POST', '/accounts', { token: harness.token, body: { login: 'dave@example.com', password: 'short' } });
  assert.equal(short.status, 400);
  assert.match(short.json.error, /at least 8 characters/);
  const badDomain = await harness.request('POST', '/accounts', { token: harness.token, body: { login: 'eve@elsewhere.test', password: 'a long enough password' } });
  assert.equal(badDomain.status, 404);
  const entries = await securityEntries(harness);
  const action = entries.find((entry) => entry.event === 'admin.account_create');
  assert.equal(action?.data.actor, 'token:ops');
  assert.equal(action?.login, 'carol@example.com');
  assert.equal(action?.data.protocol, 'admin');
  assert.ok(entries.some((entry) => entry.event === 'account.created' && entry.login === 'carol@example.com'));
  assert.ok(!entries.some((entry) => entry.fields.includes('a long enough password')), 'the password is never logged');
});

test('PUT password and quota, then DELETE the account', async () => {
  await harness.request('POST', '/accounts', { token: harness.token, body: { login: 'frank@example.com', password: 'first password here' } });
  const changed = await harness.request('PUT', '/accounts/frank%40example.com/password', { token: harness.token, body: { password: 'second password here' } });
  assert.equal(changed.status, 200, changed.text);
  assert.ok(await verifyPassword((await harness.store.admin.getPasswordHash('frank@example.com'))!, 'second password here'));
  const quota = await harness.request('PUT', '/accounts/frank@example.com/quota', { token: harness.token, body: { quotaBytes: 5000, quotaMessages: null } });
  assert.equal(quota.status, 200, quota.text);
  const listed = (await harness.request('GET', '/accounts', { token: harness.token })).json.accounts.find((account: { login: string }) => account.login === 'frank@example.com');
  assert.equal(listed.quotaBytes, 5000);
  assert.equal(listed.quotaMessages, null);
  const badQuota = await harness.request('PUT', '/accounts/frank@example.com/quota', { token: harness.token, body: { quotaBytes: -1 } });
  assert.equal(badQuota.status, 400);
  const deleted = await harness.request('DELETE', '/accounts/frank@example.com', { token: harness.token });
  assert.equal(deleted.status, 200, deleted.text);
  const gone = await harness.request('DELETE', '/accounts/frank@example.com', { token: harness.token });
  assert.equal(gone.status, 404);
  const missing = await harness.request('PUT', '/accounts/nobody@example.com/password', { token: harness.token, body: { password: 'whatever password' } });
  assert.equal(missing.status, 404);
  const events = (await securityEntries(harness)).filter((entry) => entry.login === 'frank@example.com').map((entry) => entry.event);
  for (const event of ['admin.account_create', 'account.password_changed', 'admin.password_set', 'admin.quota_set', 'account.deleted', 'admin.account_delete']) assert.ok(events.includes(event), `${event} in ${events}`);
});

test('app passwords: create (shown once), list (never the password), revoke', async () => {
  const created = await harness.request('POST', `/accounts/${userLogin}/app-passwords`, { token: harness.token, body: { name: 'Phone', scopes: ['imap'] } });
  assert.equal(created.status, 201, created.text);
  assert.equal(typeof created.json.password, 'string');
  assert.ok(created.json.password.length >= 16);
  // The new app password opens IMAP for bob.
  assert.match(await imapLogin(userLogin, created.json.password), /^a1 OK/);
  const listed = await harness.request('GET', `/accounts/${userLogin}/app-passwords`, { token: harness.token });
  assert.equal(listed.status, 200);
  assert.equal(listed.json.appPasswords.length, 1);
  assert.equal(listed.json.appPasswords[0].name, 'Phone');
  assert.deepEqual(listed.json.appPasswords[0].scopes, ['imap']);
  assert.ok(!listed.text.includes(created.json.password));
  assert.ok(!/hash/i.test(listed.text), 'no hash in the listing');
  const badScope = await harness.request('POST', `/accounts/${userLogin}/app-passwords`, { token: harness.token, body: { name: 'X', scopes: ['admin'] } });
  assert.equal(badScope.status, 400);
  const revoked = await harness.request('DELETE', `/accounts/${userLogin}/app-passwords/${created.json.id}`, { token: harness.token });
  assert.equal(revoked.status, 200, revoked.text);
  assert.match(await imapLogin(userLogin, created.json.password), /^a1 NO/);
  const again = await harness.request('DELETE', `/accounts/${userLogin}/app-passwords/${created.json.id}`, { token: harness.token });
  assert.equal(again.status, 404);
  const badId = await harness.request('DELETE', `/accounts/${userLogin}/app-passwords/-1`, { token: harness.token });
  assert.equal(badId.status, 400);
  const entries = await securityEntries(harness);
  assert.ok(!entries.some((entry) => entry.fields.includes(created.json.password)), 'the app password is never logged');
  for (const event of ['app_password.created', 'admin.app_password_create', 'app_password.revoked', 'admin.app_password_revoke']) {
    assert.ok(entries.some((entry) => entry.event === event && entry.login === userLogin), event);
  }
});

test('DELETE second-factor resets 2FA; the main password opens IMAP again', async () => {
  const { secret } = await beginEnrolment(harness.store, userLogin, harness.log);
  await confirmEnrolment(harness.store, userLogin, totp(secret), harness.log);
  assert.match(await imapLogin(userLogin, password), /^a1 NO/, 'with 2FA on, the main password no longer opens IMAP');
  const reset = await harness.request('DELETE', `/accounts/${userLogin}/second-factor`, { token: harness.token });
  assert.equal(reset.status, 200, reset.text);
  assert.match(await imapLogin(userLogin, password), /^a1 OK/);
  const again = await harness.request('DELETE', `/accounts/${userLogin}/second-factor`, { token: harness.token });
  assert.equal(again.status, 404);
  const entries = await securityEntries(harness);
  assert.ok(entries.some((entry) => entry.event === 'second_factor.reset' && entry.login === userLogin));
  assert.ok(entries.some((entry) => entry.event === 'admin.second_factor_reset' && entry.login === userLogin && entry.data.actor === 'token:ops'));
});

test('GET logins: the account\'s login history, from real IMAP logins', async () => {
  assert.match(await imapLogin(adminLogin, 'wrong password'), /^a1 NO/);
  assert.match(await imapLogin(adminLogin, password), /^a1 OK/);
  // The security log writes in batches a few milliseconds apart: ask until the second login is in.
  type Login = { event: string; protocol: string; address: string; credential: string | null; reason: string | null };
  let logins: Login[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await harness.request('GET', `/accounts/${adminLogin}/logins?limit=2`, { token: harness.token });
    assert.equal(response.status, 200, response.text);
    logins = response.json.logins as Login[];
    if (logins[0]?.event === 'auth.succeeded') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(logins.length, 2);
  assert.deepEqual(
    logins.map((item) => [item.event, item.protocol, item.address, item.credential]),
    [
      ['auth.succeeded', 'imap', '127.0.0.1', 'password'],
      ['auth.failed', 'imap', '127.0.0.1', logins[1]!.credential],
    ],
  );
  assert.equal(logins[1]!.reason, 'wrong-password');
  const otherUser = await harness.request('GET', `/accounts/${userLogin}/logins`, { token: harness.token });
  assert.ok(otherUser.json.logins.every((item: { fields: { login: string } }) => item.fields.login.toLowerCase() === userLogin), 'only that account\'s entries');
  const tooMany = await harness.request('GET', `/accounts/${adminLogin}/logins?limit=100000`, { token: harness.token });
  assert.equal(tooMany.status, 400);
});

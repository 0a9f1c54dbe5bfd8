// Isolation battery, admin API part: nobody reaches it without a valid credential
// (no token, a wrong, malformed, revoked or made-up one, a non-admin's password,
// an admin's password without the TOTP code), and the public IMAP and SMTP
// listeners never answer an admin request, even one carrying a valid token.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { after, before, test } from 'node:test';
import { adminRoutes } from '../../src/admin/admin-server.js';
import { generateAdminToken } from '../../src/admin/admin-token.js';
import { beginEnrolment, confirmEnrolment } from '../../src/auth/second-factor.js';
import { createAppPassword } from '../../src/auth/app-passwords.js';
import { totp } from '../../src/auth/totp.js';
import { adminLogin, password, securityEntries, startAdminHarness, userLogin, type AdminHarness } from '../admin/admin-harness.js';

let harness: AdminHarness;
before(async () => {
  harness = await startAdminHarness();
});
after(async () => {
  await harness?.close();
});

function assertRefused(response: { status: number; json: any; text: string; headers: Record<string, unknown> }, what: string): void {
  assert.equal(response.status, 401, `${what}: ${response.status} ${response.text}`);
  assert.match(String(response.headers['www-authenticate']), /^Bearer realm="postkeep-admin"/, what);
  assert.deepEqual(Object.keys(response.json), ['error'], `${what}: nothing but the error`);
  assert.ok(!response.text.includes(userLogin), `${what}: no account data`);
}

test('every endpoint refuses a request without a token (401 with a Bearer challenge)', async () => {
  for (const route of adminRoutes) {
    if (route.public) continue;
    const path = route.path.replace(':login', encodeURIComponent(userLogin)).replace(':id', '1');
    const response = await harness.request(route.method, path, { body: route.method === 'GET' ? undefined : {} });
    assertRefused(response, `${route.method} ${path}`);
    assert.equal(response.headers['www-authenticate'], 'Bearer realm="postkeep-admin"');
  }
  // Nothing was done: bob is still there.
  assert.ok((await harness.store.admin.listAccounts()).some((account) => account.login === userLogin));
});

test('a wrong, malformed or made-up token is refused', async () => {
  const attempts: [string, Record<string, string>][] = [
    ['a random admin-looking token', { authorization: `Bearer pkadm_${randomBytes(32).toString('base64url')}` }],
    ['a made-up session token', { authorization: `Bearer pksess_${randomBytes(32).toString('base64url')}` }],
    ['the token with one character changed', { authorization: `Bearer ${harness.token.slice(0, -1)}${harness.token.endsWith('A') ? 'B' : 'A'}` }],
    ['the token\'s SHA-256 instead of the token', { authorization: `Bearer ${generateAdminToken().tokenHash}` }],
    ['Basic authentication', { authorization: `Basic ${Buffer.from(`${adminLogin}:${password}`).toString('base64')}` }],
    ['an empty Bearer', { authorization: 'Bearer ' }],
    ['two tokens', { authorization: `Bearer ${harness.token} ${harness.token}` }],
    ['the token in another header', { 'x-api-key': harness.token }],
  ];
  for (const [what, headers] of attempts) {
    const response = await harness.request('DELETE', `/accounts/${userLogin}`, { headers });
    assertRefused(response, what);
  }
  assert.ok((await harness.store.admin.listAccounts()).some((account) => account.login === userLogin), 'bob was not deleted');
  const failures = (await securityEntries(harness, 'auth.failed')).filter((entry) => entry.data.protocol === 'admin');
  assert.ok(failures.length >= attempts.length - 1, 'refusals are in the security log');
  assert.ok(!failures.some((entry) => entry.fields.includes(harness.token)), 'no token in the log');
});

test('a revoked token stops working at once', async () => {
  const { token, tokenHash } = generateAdminToken();
  const info = await harness.store.admin.createAdminToken('temporary', tokenHash);
  assert.equal((await harness.request('GET', '/accounts', { token })).status, 200);
  assert.equal(await harness.store.admin.revokeAdminToken(String(info.id)), true);
  assertRefused(await harness.request('GET', '/accounts', { token }), 'revoked token');
  assertRefused(await harness.request('DELETE', `/accounts/${userLogin}`, { token }), 'revoked token, delete');
});

test('password logins: a non-admin is refused, an admin without 2FA gets a session', async () => {
  const bob = await harness.request('POST', '/session', { body: { login: userLogin, password } });
  assert.equal(bob.status, 401, bob.text);
  assert.deepEqual(Object.keys(bob.json), ['error']);
  // Nor does an app password of an admin open the admin API.
  const appPassword = await createAppPassword(harness.store, adminLogin, { name: 'Laptop', scopes: ['imap', 'smtp'] }, harness.log);
  const withAppPassword = await harness.request('POST', '/session', { body: { login: adminLogin, password: appPassword.password } });
  assert.equal(withAppPassword.status, 401);
  const wrong = await harness.request('POST', '/session', { body: { login: adminLogin, password: 'not the password' } });
  assert.equal(wrong.status, 401);
  assert.deepEqual(wrong.json, bob.json, 'every refusal reads the same');
  const unknown = await harness.request('POST', '/session', { body: { login: 'nobody@example.com', password } });
  assert.equal(unknown.status, 401);
  assert.deepEqual(unknown.json, bob.json);
  const alice = await harness.request('POST', '/session', { body: { login: adminLogin, password } });
  assert.equal(alice.status, 201, alice.text);
  assert.match(alice.json.token, /^pksess_/);
  const listed = await harness.request('GET', '/accounts', { token: alice.json.token });
  assert.equal(listed.status, 200);
  const ended = await harness.request('DELETE', '/session', { token: alice.json.token });
  assert.equal(ended.json.ended, true);
  assertRefused(await harness.request('GET', '/accounts', { token: alice.json.token }), 'an ended session');
});

test('with 2FA on, an admin needs password and a fresh TOTP code', async () => {
  const { secret } = await beginEnrolment(harness.store, adminLogin, harness.log);
  await confirmEnrolment(harness.store, adminLogin, totp(secret), harness.log);
  const noCode = await harness.request('POST', '/session', { body: { login: adminLogin, password } });
  assert.equal(noCode.status, 401, noCode.text);
  const wrongCode = await harness.request('POST', '/session', { body: { login: adminLogin, password, totp: totp(secret, Date.now() + 10 * 60_000) } });
  assert.equal(wrongCode.status, 401);
  const codeWithoutPassword = await harness.request('POST', '/session', { body: { login: adminLogin, password: 'not the password', totp: totp(secret, Date.now() + 30_000) } });
  assert.equal(codeWithoutPassword.status, 401);
  // The confirmation used the current step; the next one (within the allowed drift) is fresh.
  const both = await harness.request('POST', '/session', { body: { login: adminLogin, password, totp: totp(secret, Date.now() + 30_000) } });
  assert.equal(both.status, 201, both.text);
  assert.equal((await harness.request('GET', '/queue', { token: both.json.token })).status, 200);
  const entries = await securityEntries(harness);
  const session = entries.find((entry) => entry.event === 'admin.session_create');
  assert.equal(session?.data.actor, adminLogin);
  assert.ok(entries.some((entry) => entry.event === 'admin.queue_list' && entry.data.actor === adminLogin), 'actions in a session name the admin');
  assert.ok(!entries.some((entry) => entry.fields.includes(both.json.token)), 'no session token in the log');
});

/** Sends an admin HTTP request with a valid token and collects whatever comes back for a while. */
async function askPublicListener(socket: net.Socket | tls.TLSSocket, connected: string): Promise<string> {
  let received = '';
  return new Promise<string>((resolve) => {
    const finish = () => resolve(received);
    socket.once(connected, () => {
      socket.write(`GET /accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${harness.token}\r\nContent-Length: 0\r\n\r\n`);
      setTimeout(() => socket.end(), 1500);
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

test('the public IMAP and SMTP listeners do not answer admin requests', async () => {
  const listeners = harness.server.smtp.listeners;
  const plain: [string, number][] = [
    ['IMAP (STARTTLS port)', harness.server.imap!.port!],
    ['SMTP MX', listeners.mx!.port],
    ['SMTP submission', listeners.submission!.port],
  ];
  const implicit: [string, number][] = [
    ['IMAP over TLS', harness.server.imap!.tlsPort!],
    ['SMTP submissions', listeners.submissions!.port],
  ];
  const before = (await securityEntries(harness, 'admin.')).length;
  for (const [name, port] of plain) {
    const answer = await askPublicListener(net.connect(port, '127.0.0.1'), 'connect');
    assert.ok(answer.length > 0, `${name} greets`);
    assert.ok(!/^HTTP\//m.test(answer), `${name} answered HTTP: ${answer}`);
    assert.ok(!answer.includes(userLogin), `${name} leaked account data`);
  }
  for (const [name, port] of implicit) {
    const answer = await askPublicListener(tls.connect({ host: '127.0.0.1', port, ca: harness.ca, servername: 'localhost' }), 'secureConnect');
    assert.ok(answer.length > 0, `${name} greets`);
    assert.ok(!/^HTTP\//m.test(answer), `${name} answered HTTP: ${answer}`);
    assert.ok(!answer.includes(userLogin), `${name} leaked account data`);
  }
  assert.equal((await securityEntries(harness, 'admin.')).length, before, 'no admin action happened');
  // The admin listener, by contrast, is not a mail listener.
  const onAdmin = await askPublicListener(tls.connect({ host: '127.0.0.1', port: harness.port, ca: harness.ca, servername: 'localhost' }), 'secureConnect');
  assert.match(onAdmin, /^HTTP\/1\.1 200 /);
});

test('the admin listener is bound to loopback by default', async () => {
  assert.equal(harness.server.admin!.host, '127.0.0.1');
});

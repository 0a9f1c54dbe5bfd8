// App passwords against a real IMAP and SMTP server: scoped per protocol, revocable,
// last use recorded, every outcome logged under the contract's event names.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { createAppPassword, revokeAppPassword } from '../../src/auth/app-passwords.js';
import { authEvents, imapLogin, login, password, smtpLogin, startAuthHarness, type AuthHarness } from './auth-harness.js';

let harness: AuthHarness;
before(async () => {
  harness = await startAuthHarness();
});
after(() => harness.close());

test('an app password works on its scopes only, in any case and with or without dashes', async () => {
  const imapOnly = await createAppPassword(harness.store, login, { name: 'Tablet', scopes: 'imap' }, harness.log);
  const smtpOnly = await createAppPassword(harness.store, login, { name: 'Printer', scopes: ['smtp'] }, harness.log);
  assert.match(imapOnly.password, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);

  const client = new ImapFlow({ host: '127.0.0.1', port: harness.imapPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: login, pass: imapOnly.password }, logger: false });
  await client.connect();
  assert.ok((await client.list()).some((mailbox) => mailbox.path === 'INBOX'), 'imapflow logged in with the app password');
  await client.logout();
  assert.match(await imapLogin(harness, login, imapOnly.password.replace(/-/g, '').toUpperCase()), /^a1 OK/);

  assert.equal(await smtpLogin(harness, login, imapOnly.password), 535, 'imap-only on SMTP');
  assert.match(await imapLogin(harness, login, smtpOnly.password), /^a1 NO \[AUTHENTICATIONFAILED\] invalid credentials$/, 'smtp-only on IMAP');
  assert.equal(await smtpLogin(harness, login, smtpOnly.password), 235);
  assert.equal(await smtpLogin(harness, login, password), 235, 'the main password still works without 2FA');

  const events = authEvents(harness);
  assert.deepEqual(events, [
    'auth.succeeded:app-password@127.0.0.1/imap',
    'auth.succeeded:app-password@127.0.0.1/imap',
    'auth.failed:scope@127.0.0.1/smtp',
    'auth.failed:scope@127.0.0.1/imap',
    'auth.succeeded:app-password@127.0.0.1/smtp',
    'auth.succeeded:password@127.0.0.1/smtp',
  ]);
  const succeeded = harness.log.events.find((event) => event.event === 'auth.succeeded')!;
  assert.equal(succeeded.fields.login, login);
  assert.equal(succeeded.fields.appPasswordId, imapOnly.id);
  assert.equal(succeeded.fields.appPasswordName, 'Tablet');
  assert.deepEqual(
    harness.log.events.filter((event) => event.event === 'app_password.created').map((event) => event.fields),
    [
      { login, id: imapOnly.id, name: 'Tablet', scopes: ['imap'] },
      { login, id: smtpOnly.id, name: 'Printer', scopes: ['smtp'] },
    ],
  );
});

test('last use is recorded with time and address; a revoked app password stops working at once', async () => {
  const phone = await createAppPassword(harness.store, login, { name: 'Phone', scopes: 'imap,smtp' }, harness.log);
  let entry = (await harness.store.admin.listAppPasswords(login)).find((item) => item.id === phone.id)!;
  assert.equal(entry.lastUsedAt, null);
  const before = Date.now();
  assert.match(await imapLogin(harness, login, phone.password, '127.0.0.3'), /^a1 OK/);
  entry = (await harness.store.admin.listAppPasswords(login)).find((item) => item.id === phone.id)!;
  assert.equal(entry.lastUsedAddress, '127.0.0.3');
  assert.ok(entry.lastUsedAt && entry.lastUsedAt.getTime() >= before - 1000);
  assert.equal(await smtpLogin(harness, login, phone.password, '127.0.0.4'), 235);
  entry = (await harness.store.admin.listAppPasswords(login)).find((item) => item.id === phone.id)!;
  assert.equal(entry.lastUsedAddress, '127.0.0.4');

  await revokeAppPassword(harness.store, login, phone.id, harness.log);
  await assert.rejects(revokeAppPassword(harness.store, login, phone.id, harness.log), /no active app password/);
  assert.match(await imapLogin(harness, login, phone.password, '127.0.0.3'), /^a1 NO \[AUTHENTICATIONFAILED\] invalid credentials$/);
  assert.equal(await smtpLogin(harness, login, phone.password, '127.0.0.4'), 535);
  assert.deepEqual(authEvents(harness).slice(-2), ['auth.failed:revoked@127.0.0.3/imap', 'auth.failed:revoked@127.0.0.4/smtp']);
  const revokedEvent = harness.log.events.find((event) => event.event === 'app_password.revoked')!;
  assert.deepEqual(revokedEvent.fields, { login, id: phone.id, name: 'Phone' });
  entry = (await harness.store.admin.listAppPasswords(login)).find((item) => item.id === phone.id)!;
  assert.ok(entry.revokedAt);
});

test('every failure reason gets the same answer: IMAP NO [AUTHENTICATIONFAILED], SMTP 535', async () => {
  const answers = new Set<string>();
  for (const [user, secret] of [
    [login, 'wrong password'],
    ['nobody@example.com', password],
    ['', password],
    [login, 'x'.repeat(2000)],
  ] as const) {
    answers.add(await imapLogin(harness, user, secret));
  }
  assert.deepEqual([...answers], ['a1 NO [AUTHENTICATIONFAILED] invalid credentials']);
  const codes = new Set([await smtpLogin(harness, login, 'wrong password'), await smtpLogin(harness, 'nobody@example.com', password)]);
  assert.deepEqual([...codes], [535]);
  const reasons = authEvents(harness).slice(-6);
  assert.deepEqual(reasons, [
    'auth.failed:wrong-password@127.0.0.1/imap',
    'auth.failed:unknown-user@127.0.0.1/imap',
    'auth.failed:malformed@127.0.0.1/imap',
    'auth.failed:malformed@127.0.0.1/imap',
    'auth.failed:wrong-password@127.0.0.1/smtp',
    'auth.failed:unknown-user@127.0.0.1/smtp',
  ]);
});

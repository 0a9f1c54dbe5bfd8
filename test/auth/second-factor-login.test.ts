// With 2FA enabled, the main password no longer opens IMAP or SMTP; app passwords do.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAppPassword } from '../../src/auth/app-passwords.js';
import { beginEnrolment, confirmEnrolment, disableSecondFactor } from '../../src/auth/second-factor.js';
import { totp } from '../../src/auth/totp.js';
import { authEvents, imapLogin, login, password, smtpLogin, startAuthHarness, type AuthHarness } from './auth-harness.js';

let harness: AuthHarness;
before(async () => {
  harness = await startAuthHarness();
});
after(() => harness.close());

test('2FA on: the main password is refused on IMAP and SMTP, an app password works; 2FA off: it works again', async () => {
  const app = await createAppPassword(harness.store, login, { name: 'Laptop', scopes: 'imap,smtp' }, harness.log);
  assert.match(await imapLogin(harness, login, password), /^a1 OK/);

  const { secret } = await beginEnrolment(harness.store, login, harness.log);
  // Enrolled but not confirmed: nothing changes yet.
  assert.match(await imapLogin(harness, login, password), /^a1 OK/);
  await confirmEnrolment(harness.store, login, totp(secret), harness.log);

  assert.match(await imapLogin(harness, login, password), /^a1 NO \[AUTHENTICATIONFAILED\] invalid credentials$/);
  assert.equal(await smtpLogin(harness, login, password), 535);
  assert.match(await imapLogin(harness, login, app.password), /^a1 OK/);
  assert.equal(await smtpLogin(harness, login, app.password), 235);
  // A TOTP code is not a password anywhere.
  assert.match(await imapLogin(harness, login, totp(secret)), /^a1 NO \[AUTHENTICATIONFAILED\]/);

  await disableSecondFactor(harness.store, login, harness.log);
  assert.match(await imapLogin(harness, login, password), /^a1 OK/);

  assert.deepEqual(authEvents(harness), [
    'auth.succeeded:password@127.0.0.1/imap',
    'auth.succeeded:password@127.0.0.1/imap',
    'auth.failed:second-factor-enabled@127.0.0.1/imap',
    'auth.failed:second-factor-enabled@127.0.0.1/smtp',
    'auth.succeeded:app-password@127.0.0.1/imap',
    'auth.succeeded:app-password@127.0.0.1/smtp',
    'auth.failed:wrong-password@127.0.0.1/imap',
    'auth.succeeded:password@127.0.0.1/imap',
  ]);
  assert.deepEqual(
    harness.log.events.filter((event) => event.event.startsWith('second_factor.')).map((event) => `${event.event}:${event.fields.login}`),
    [`second_factor.enrolled:${login}`, `second_factor.enabled:${login}`, `second_factor.disabled:${login}`],
  );
});

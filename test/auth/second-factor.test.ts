import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyAdminLogin } from '../../src/auth/admin-login.js';
import { configureLoginPacing, defaultPacingSettings } from '../../src/auth/pacing.js';
import { hashPassword } from '../../src/auth/password.js';
import { beginEnrolment, confirmEnrolment, disableSecondFactor, verifySecondFactor } from '../../src/auth/second-factor.js';
import { totp } from '../../src/auth/totp.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

const login = 'alice@example.com';

test('enrolment waits for a valid code, then issues ten recovery codes; codes are single-use', async () => {
  const fixture = await createTemporaryStore();
  try {
    const now = Date.now();
    const { secret, uri } = await beginEnrolment(fixture.store, login, fixture.log);
    assert.match(uri, /^otpauth:\/\/totp\//);
    assert.equal(await verifySecondFactor(fixture.store, login, totp(secret, now), fixture.log, now), false, 'not enabled before confirmation');
    await assert.rejects(confirmEnrolment(fixture.store, login, '000000', fixture.log, now), /does not match/);
    const recoveryCodes = await confirmEnrolment(fixture.store, login, totp(secret, now), fixture.log, now);
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    for (const code of recoveryCodes) assert.match(code, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);

    // The confirming code's step is spent; the next step's code works once; an older one never.
    assert.equal(await verifySecondFactor(fixture.store, login, totp(secret, now), fixture.log, now), false, 'replay of the confirming code');
    const later = now + 30_000;
    assert.equal(await verifySecondFactor(fixture.store, login, totp(secret, later), fixture.log, later), true);
    assert.equal(await verifySecondFactor(fixture.store, login, totp(secret, later), fixture.log, later), false, 'replay');
    assert.equal(await verifySecondFactor(fixture.store, login, totp(secret, now + 5 * 60_000), fixture.log, now + 60_000), false, 'too far ahead');

    assert.equal(await verifySecondFactor(fixture.store, login, recoveryCodes[3]!.toUpperCase().replace(/-/g, ' '), fixture.log), true, 'a recovery code, however typed');
    assert.equal(await verifySecondFactor(fixture.store, login, recoveryCodes[3]!, fixture.log), false, 'only once');
    assert.equal((await fixture.store.admin.getSecondFactor(login))?.unusedRecoveryCodes, 9);

    await assert.rejects(beginEnrolment(fixture.store, login, fixture.log), /already has two-factor/);
    await disableSecondFactor(fixture.store, login, fixture.log);
    assert.equal(await fixture.store.admin.getSecondFactor(login), null);
    assert.deepEqual(
      fixture.log.events.filter((event) => /^(second_factor|recovery_code)\./.test(event.event)).map((event) => [event.event, event.fields.login]),
      [
        ['second_factor.enrolled', login],
        ['second_factor.enabled', login],
        ['recovery_code.used', login],
        ['second_factor.disabled', login],
      ],
    );
  } finally {
    await fixture.dispose();
  }
});

test('the admin login needs is_admin, and password + TOTP (or a recovery code) once 2FA is on', async () => {
  const fixture = await createTemporaryStore();
  try {
    configureLoginPacing(fixture.store, { ...defaultPacingSettings, pacing: false });
    await fixture.store.admin.setPasswordHash(login, await hashPassword('correct horse battery'));
    const attempt = (password: string, code?: string) => verifyAdminLogin(fixture.store, { login, password, address: '127.0.0.1', ...(code ? { totp: code } : {}) }, fixture.log);
    assert.equal(await attempt('correct horse battery'), false, 'not an administrator');
    await fixture.store.admin.setAdmin(login, true);
    assert.equal(await attempt('correct horse battery'), true, 'no 2FA: the password is enough');
    assert.equal(await attempt('wrong'), false);
    const { secret } = await beginEnrolment(fixture.store, login, fixture.log);
    const [recoveryCode] = await confirmEnrolment(fixture.store, login, totp(secret, Date.now() - 30_000), fixture.log, Date.now() - 30_000);
    assert.equal(await attempt('correct horse battery'), false, 'the password alone no longer opens it');
    assert.equal(await attempt('wrong', totp(secret)), false);
    assert.equal(await attempt('correct horse battery', totp(secret)), true);
    assert.equal(await attempt('correct horse battery', recoveryCode), true);
    assert.equal(await attempt('correct horse battery', recoveryCode), false, 'a recovery code works once');
    const outcomes = fixture.log.events.filter((event) => event.event.startsWith('auth.')).map((event) => `${event.event}:${event.fields.reason ?? event.fields.credential}`);
    assert.deepEqual(outcomes, [
      'auth.failed:scope',
      'auth.succeeded:password',
      'auth.failed:wrong-password',
      'auth.failed:second-factor-enabled',
      'auth.failed:wrong-password',
      'auth.succeeded:password',
      'auth.succeeded:recovery-code',
      'auth.failed:second-factor-enabled',
    ]);
    assert.ok(fixture.log.events.every((event) => !event.event.startsWith('auth.') || event.fields.protocol === 'admin'));
  } finally {
    await fixture.dispose();
  }
});

// Pacing and lockout over real IMAP connections from several 127.0.0.0/8 addresses.
// No timing is asserted (the machine is shared); the events and answers are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAppPassword } from '../../src/auth/app-passwords.js';
import { authEvents, imapLogin, login, password, smtpLogin, startAuthHarness } from './auth-harness.js';

const failed = /^a1 NO \[AUTHENTICATIONFAILED\] invalid credentials$/;

test('a pair is locked after the threshold and answered like any failure; other addresses are not', async () => {
  const harness = await startAuthHarness({ pacing: true, delayStepSeconds: 0.01, maxDelaySeconds: 0.05, lockThreshold: 3, accountLockThreshold: 1000, lockMinutes: 10 });
  try {
    for (let i = 0; i < 3; i++) assert.match(await imapLogin(harness, login, `guess ${i}`, '127.0.0.2'), failed);
    const locked = harness.log.events.filter((event) => event.event === 'auth.locked');
    assert.equal(locked.length, 1);
    assert.equal(locked[0]!.fields.login, login);
    assert.equal(locked[0]!.fields.address, '127.0.0.2');
    assert.ok(Date.parse(String(locked[0]!.fields.untilTime)) > Date.now() + 9 * 60_000);
    // Now even the right password from there gets the same answer.
    assert.match(await imapLogin(harness, login, password, '127.0.0.2'), failed);
    assert.equal(await smtpLogin(harness, login, password, '127.0.0.2'), 535);
    // The same account from elsewhere, and another account from there, are not locked.
    assert.match(await imapLogin(harness, login, password, '127.0.0.5'), /^a1 OK/);
    assert.deepEqual(authEvents(harness), [
      'auth.failed:wrong-password@127.0.0.2/imap',
      'auth.failed:wrong-password@127.0.0.2/imap',
      'auth.locked:@127.0.0.2/',
      'auth.failed:wrong-password@127.0.0.2/imap',
      'auth.failed:locked@127.0.0.2/imap',
      'auth.failed:locked@127.0.0.2/smtp',
      'auth.succeeded:password@127.0.0.5/imap',
    ]);
  } finally {
    await harness.close();
  }
});

test('hammering one account from many addresses locks unknown addresses out, not the owner at a known address', async () => {
  const harness = await startAuthHarness({ pacing: true, delayStepSeconds: 0.01, maxDelaySeconds: 0.05, lockThreshold: 100, accountLockThreshold: 6, lockMinutes: 10 });
  try {
    const phone = await createAppPassword(harness.store, login, { name: 'Phone', scopes: 'imap,smtp' }, harness.log);
    // The owner has logged in from 127.0.0.1 before: it is a known source.
    assert.match(await imapLogin(harness, login, phone.password, '127.0.0.1'), /^a1 OK/);
    for (let i = 0; i < 6; i++) assert.match(await imapLogin(harness, login, `guess ${i}`, `127.0.1.${i + 1}`), failed);
    assert.equal(harness.log.events.filter((event) => event.event === 'auth.locked').length, 1);
    // An address the account never used is locked out, even with the right app password…
    assert.match(await imapLogin(harness, login, phone.password, '127.0.2.1'), failed);
    // …the owner at the known address still gets in, over IMAP and SMTP.
    assert.match(await imapLogin(harness, login, phone.password, '127.0.0.1'), /^a1 OK/);
    assert.equal(await smtpLogin(harness, login, phone.password, '127.0.0.1'), 235);
    assert.deepEqual(authEvents(harness).slice(-3), ['auth.failed:locked@127.0.2.1/imap', 'auth.succeeded:app-password@127.0.0.1/imap', 'auth.succeeded:app-password@127.0.0.1/smtp']);
  } finally {
    await harness.close();
  }
});

test('failures from one source are paced: the delays grow, and the server keeps serving others meanwhile', async () => {
  const harness = await startAuthHarness({ pacing: true, delayStepSeconds: 0.2, maxDelaySeconds: 0.4, lockThreshold: 100, accountLockThreshold: 1000 });
  try {
    const attempts = Array.from({ length: 4 }, (_, i) => imapLogin(harness, login, `guess ${i}`, '127.0.0.7'));
    // While those are held back, another address logs in.
    assert.match(await imapLogin(harness, login, password, '127.0.0.8'), /^a1 OK/);
    for (const reply of await Promise.all(attempts)) assert.match(reply, failed);
    const outcome = harness.pacing.recordFailure(login, '127.0.0.7', { known: false });
    assert.equal(outcome.delayMilliseconds, 400, 'the fifth failure from that source is held back by the cap');
  } finally {
    await harness.close();
  }
});

// The cache of successful password checks (src/auth/credential-cache.ts): a repeated
// LOGIN skips argon2, a wrong password never does, and a changed password (a new stored
// hash) is never answered from the cache.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import argon2 from 'argon2';
import { CredentialCache } from '../../src/auth/credential-cache.js';
import { hashPassword } from '../../src/auth/password.js';
import { login, password, RawClient, startTestServer } from './server-harness.js';

function countingVerifier() {
  const counter = {
    runs: 0,
    verify: async (hash: string, candidate: string) => {
      counter.runs++;
      return argon2.verify(hash, candidate);
    },
  };
  return counter;
}

test('a success is remembered; failures and other hashes always run argon2; checks in flight are shared', async () => {
  const cache = new CredentialCache();
  const verifier = countingVerifier();
  const hash = await hashPassword('first password');
  assert.equal(await cache.check(hash, 'first password', verifier.verify), true);
  assert.equal(await cache.check(hash, 'first password', verifier.verify), true);
  assert.equal(verifier.runs, 1);
  assert.equal(await cache.check(hash, 'wrong password', verifier.verify), false);
  assert.equal(await cache.check(hash, 'wrong password', verifier.verify), false);
  assert.equal(verifier.runs, 3);
  // Same password, new stored hash (the password was set again): checked afresh.
  const newHash = await hashPassword('first password');
  assert.equal(await cache.check(newHash, 'first password', verifier.verify), true);
  assert.equal(verifier.runs, 4);
  // A burst of identical logins costs one argon2 run.
  const fresh = new CredentialCache();
  const results = await Promise.all(Array.from({ length: 5 }, () => fresh.check(hash, 'first password', verifier.verify)));
  assert.deepEqual(results, [true, true, true, true, true]);
  assert.equal(verifier.runs, 5);
});

test('an entry expires after its TTL, and the oldest go past maxEntries', async () => {
  const verifier = countingVerifier();
  const hash = await hashPassword('some password');
  const short = new CredentialCache({ ttlMilliseconds: 30 });
  await short.check(hash, 'some password', verifier.verify);
  await new Promise((resolve) => setTimeout(resolve, 60));
  await short.check(hash, 'some password', verifier.verify);
  assert.equal(verifier.runs, 2);
  const small = new CredentialCache({ maxEntries: 1 });
  const other = await hashPassword('other password');
  await small.check(hash, 'some password', verifier.verify);
  await small.check(other, 'other password', verifier.verify);
  await small.check(hash, 'some password', verifier.verify);
  assert.equal(verifier.runs, 5);
});

test('over IMAP: after a password change the old password is refused at once, the new one works', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const first = await RawClient.connect(server);
  t.after(() => first.close());
  // Twice, so the old password is surely in the cache.
  await first.login();
  const second = await RawClient.connect(server);
  t.after(() => second.close());
  await second.login();
  await server.store.admin.setPasswordHash(login, await hashPassword('a brand new password'));
  const third = await RawClient.connect(server);
  t.after(() => third.close());
  assert.match(await third.command('p1', `LOGIN ${login} "${password}"`), /^p1 NO \[AUTHENTICATIONFAILED\]/m);
  assert.match(await third.command('p2', `LOGIN ${login} "a brand new password"`), /^p2 OK/m);
});

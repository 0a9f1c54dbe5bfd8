import assert from 'node:assert/strict';
import { test } from 'node:test';
import argon2 from 'argon2';
import { authenticate, type LoginRequest } from '../../src/auth/authenticate.js';
import { configureLoginPacing, defaultPacingSettings } from '../../src/auth/pacing.js';
import { hashPassword } from '../../src/auth/password.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

function request(login: string, password: string, protocol: LoginRequest['protocol'] = 'imap'): LoginRequest {
  return { login, password, protocol, address: '192.0.2.10', secure: true };
}

test('a right password gives the account handle; wrong, unknown and malformed get null, each logged with its reason', async () => {
  const fixture = await createTemporaryStore();
  try {
    configureLoginPacing(fixture.store, { ...defaultPacingSettings, pacing: false });
    await fixture.store.admin.setPasswordHash('alice@example.com', await hashPassword('correct horse battery'));
    const account = await authenticate(fixture.store, request('Alice@Example.com', 'correct horse battery'), fixture.log);
    assert.equal(account?.login, 'alice@example.com');
    assert.equal(await authenticate(fixture.store, request('alice@example.com', 'Correct horse battery'), fixture.log), null);
    assert.equal(await authenticate(fixture.store, request('nobody@example.com', 'correct horse battery'), fixture.log), null);
    assert.equal(await authenticate(fixture.store, request('alice@example.com', ''), fixture.log), null);
    await fixture.store.admin.addAccount('broken@example.com', 'not-a-hash');
    assert.equal(await authenticate(fixture.store, request('broken@example.com', 'not-a-hash'), fixture.log), null, 'a malformed stored hash never matches');
    const events = fixture.log.events.filter((event) => event.event.startsWith('auth.'));
    assert.deepEqual(
      events.map((event) => [event.event, event.fields.login, event.fields.reason ?? event.fields.credential]),
      [
        ['auth.succeeded', 'alice@example.com', 'password'],
        ['auth.failed', 'alice@example.com', 'wrong-password'],
        ['auth.failed', 'nobody@example.com', 'unknown-user'],
        ['auth.failed', 'alice@example.com', 'malformed'],
        ['auth.failed', 'broken@example.com', 'wrong-password'],
      ],
    );
    for (const event of events) {
      assert.equal(event.fields.protocol, 'imap');
      assert.equal(event.fields.address, '192.0.2.10');
    }
    assert.ok(await fixture.store.admin.isKnownLoginSource('alice@example.com', '192.0.2.10'), 'a success remembers its source address');
    assert.equal(await fixture.store.admin.isKnownLoginSource('alice@example.com', '192.0.2.11'), false);
  } finally {
    await fixture.dispose();
  }
});

test('a hash with weaker parameters is rehashed at the next successful login', async () => {
  const fixture = await createTemporaryStore();
  try {
    configureLoginPacing(fixture.store, { ...defaultPacingSettings, pacing: false });
    const weak = await argon2.hash('correct horse battery', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    await fixture.store.admin.setPasswordHash('alice@example.com', weak);
    assert.ok(await authenticate(fixture.store, request('alice@example.com', 'correct horse battery'), fixture.log));
    const upgraded = await fixture.store.admin.getPasswordHash('alice@example.com');
    assert.notEqual(upgraded, weak);
    assert.match(upgraded!, /^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    assert.ok(await authenticate(fixture.store, request('alice@example.com', 'correct horse battery'), fixture.log));
  } finally {
    await fixture.dispose();
  }
});

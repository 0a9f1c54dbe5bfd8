import assert from 'node:assert/strict';
import { test } from 'node:test';
import argon2 from 'argon2';
import { authenticate } from '../../src/auth/authenticate.js';
import { hashPassword } from '../../src/auth/password.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

test('a right password gives the account handle; wrong, unknown and malformed get null', async () => {
  const fixture = await createTemporaryStore();
  try {
    await fixture.store.admin.setPasswordHash('alice@example.com', await hashPassword('correct horse battery'));
    const account = await authenticate(fixture.store, 'alice@example.com', 'correct horse battery');
    assert.equal(account?.login, 'alice@example.com');
    assert.equal(await authenticate(fixture.store, 'alice@example.com', 'Correct horse battery'), null);
    assert.equal(await authenticate(fixture.store, 'nobody@example.com', 'correct horse battery'), null);
    await fixture.store.admin.addAccount('broken@example.com', 'not-a-hash');
    assert.equal(await authenticate(fixture.store, 'broken@example.com', 'not-a-hash'), null, 'a malformed stored hash never matches');
  } finally {
    await fixture.dispose();
  }
});

test('a hash with weaker parameters is rehashed at the next successful login', async () => {
  const fixture = await createTemporaryStore();
  try {
    const weak = await argon2.hash('correct horse battery', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    await fixture.store.admin.setPasswordHash('alice@example.com', weak);
    assert.ok(await authenticate(fixture.store, 'alice@example.com', 'correct horse battery'));
    const upgraded = await fixture.store.admin.getPasswordHash('alice@example.com');
    assert.notEqual(upgraded, weak);
    assert.match(upgraded!, /^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    assert.ok(await authenticate(fixture.store, 'alice@example.com', 'correct horse battery'));
  } finally {
    await fixture.dispose();
  }
});

// Imported Dovecot hashes. The fixtures were made on a machine with the real tools
// (openssl passwd -6, Python's crypt module on libxcrypt, doveadm pw), so CI needs none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authenticate } from '../../src/auth/authenticate.js';
import { configureLoginPacing, defaultPacingSettings } from '../../src/auth/pacing.js';
import { importHash } from '../../src/auth/password-schemes.js';
import { needsRehash, verifyPassword } from '../../src/auth/password.js';
import { parseShaCryptSetting, shaCrypt } from '../../src/auth/sha-crypt.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';
import { dovecotFixtures } from './dovecot-fixtures.js';

const password = 'correct horse battery staple';

// [password, full $6$ string]
const shaCryptVectors: [string, string][] = [
  // Drepper's specification, test vectors 1, 2, 3 and 5 (Python crypt agrees).
  ['Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
  ['a very much longer text to encrypt.  This one even stretches over morethan one line.', '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1'],
  // openssl passwd -6 -salt Xr7qP2bKzN4mWc8e
  [password, '$6$Xr7qP2bKzN4mWc8e$64.LuE1yVedqGPs86u2nt92Ipx6lHA6vxoWmEEWpCl5cS5NfA0ia.Aon/BTbkUP/C37AzSskOqf0c2NxLd9Iu0'],
  // Python crypt.crypt: explicit rounds, and a non-ASCII password (UTF-8 bytes).
  [password, '$6$rounds=10000$saltstringsaltst$vYfRg0cvt6jqN.cdxF22BORftytx0YPFkovksVubXuGbzxqnymO6iA22anPhq1CcF20s8mxa6wCNxLd21.zwA.'],
  ['pässwörd ünïcode', '$6$abc$4adeNb1O/XIW3d7NhMW9nuowvr9v7YbPYVyH4jA9l1ZzZ1i4QrCZeX2JdbB/6vRncksdWe9mBEZctAeYeE.U20'],
];


test('SHA-512 crypt reproduces the specification and glibc/libxcrypt outputs', async () => {
  for (const [input, expected] of shaCryptVectors) {
    const setting = parseShaCryptSetting(expected);
    assert.ok(setting, expected);
    assert.equal(await shaCrypt(input, setting), expected);
  }
  // Spec: rounds below 1000 are raised to 1000 and a salt is cut at 16 characters.
  assert.equal(parseShaCryptSetting('$6$rounds=10$roundstoolow')?.rounds, 1000);
  assert.equal(parseShaCryptSetting('$6$saltstringsaltstringsaltstring')?.salt, 'saltstringsaltst');
  assert.equal(parseShaCryptSetting('$5$saltstring'), null);
});

test('every imported scheme verifies the right password and refuses a wrong one', async () => {
  for (const [name, field] of Object.entries(dovecotFixtures)) {
    const imported = importHash(field);
    assert.ok(imported.ok, name);
    assert.equal(await verifyPassword(imported.stored, password), true, name);
    assert.equal(await verifyPassword(imported.stored, password + 'x'), false, name);
    assert.equal(await verifyPassword(imported.stored, ''), false, name);
    assert.equal(needsRehash(imported.stored), true, `${name} is upgraded at the next login`);
  }
});

test('unknown schemes and malformed hashes are refused at import, with the reason', () => {
  assert.deepEqual(importHash('{PLAIN}secret'), { ok: false, reason: 'unknown scheme PLAIN' });
  assert.deepEqual(importHash('{MD5-CRYPT}$1$abc$def'), { ok: false, reason: 'unknown scheme MD5-CRYPT' });
  assert.equal(importHash('$6$abc$def').ok, false);
  assert.equal(importHash('{SHA512-CRYPT}$6$abc$tooshort').ok, false);
  assert.equal(importHash('{BLF-CRYPT}$2y$31$wengNxDo0ipfVWKU9Tn01uk24E0Maj4EURTSwMq01V.ri8Dc9LHPe').ok, false, 'a cost that would stall logins');
  assert.equal(importHash('{SHA512-CRYPT}$6$rounds=99999999$abc$' + 'a'.repeat(86)).ok, false);
  assert.equal(importHash('{SSHA512}c2hvcnQ=').ok, false, 'shorter than a SHA-512 digest');
  assert.equal(importHash('{ARGON2ID}$argon2i$v=19$m=65536,t=3,p=1$gk8tliUyjW6RkX4o57b+fQ$ythCMID+xlkJaffvticN19AohbM2gGDn0VShJnhea+w').ok, false);
});

test('an account with an imported hash logs in and is rehashed to argon2id', async () => {
  const fixture = await createTemporaryStore();
  try {
    configureLoginPacing(fixture.store, { ...defaultPacingSettings, pacing: false });
    for (const [index, [name, field]] of Object.entries(dovecotFixtures).entries()) {
      const login = `user${index}@example.com`;
      const imported = importHash(field);
      assert.ok(imported.ok);
      await fixture.store.admin.addAccount(login, imported.stored);
      const request = { login, protocol: 'imap' as const, address: '192.0.2.1', secure: true };
      assert.equal(await authenticate(fixture.store, { ...request, password: 'wrong password' }, fixture.log), null, name);
      assert.equal(await fixture.store.admin.getPasswordHash(login), imported.stored, 'a failure changes nothing');
      assert.ok(await authenticate(fixture.store, { ...request, password }, fixture.log), name);
      assert.match((await fixture.store.admin.getPasswordHash(login))!, /^\$argon2id\$v=19\$m=65536,p=4,t=3\$/, name);
      assert.ok(await authenticate(fixture.store, { ...request, password }, fixture.log), `${name}, after the rehash`);
    }
    assert.equal(fixture.log.events.filter((event) => event.event === 'auth.rehashed').length, Object.keys(dovecotFixtures).length);
  } finally {
    await fixture.dispose();
  }
});

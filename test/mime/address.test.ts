import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressList, MISSING_DOMAIN, MISSING_MAILBOX } from '../../src/mime/address.js';

// [name, mailbox, host] triples for compact expectations.
function triples(value: string): (string | null)[][] {
  return parseAddressList(value).map((address) => {
    assert.equal(address.adl, null);
    return [address.name, address.mailbox, address.host];
  });
}

test('display name with quoted string and angle address', () => {
  assert.deepEqual(triples('"Joe Q. Public" <john.q.public@example.com>'), [['Joe Q. Public', 'john.q.public', 'example.com']]);
});

test('list of mixed forms (RFC 5322 Appendix A.1.2)', () => {
  assert.deepEqual(triples('Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>'), [
    ['Mary Smith', 'mary', 'x.test'],
    [null, 'jdoe', 'example.org'],
    ['Who?', 'one', 'y.test'],
  ]);
});

test('quoted-pairs and specials inside a quoted name', () => {
  assert.deepEqual(triples('<boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>'), [
    [null, 'boss', 'nil.test'],
    ['Giant; "Big" Box', 'sysservices', 'example.net'],
  ]);
});

test('group syntax gives RFC 3501 §7.4.2 start and end markers', () => {
  assert.deepEqual(triples('A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, after@x.test'), [
    [null, 'A Group', null],
    ['Ed Jones', 'c', 'a.test'],
    [null, 'joe', 'where.test'],
    ['John', 'jdoe', 'one.test'],
    [null, null, null],
    [null, 'after', 'x.test'],
  ]);
});

test('empty group', () => {
  assert.deepEqual(triples('undisclosed-recipients:;'), [
    [null, 'undisclosed-recipients', null],
    [null, null, null],
  ]);
});

test('group without its closing semicolon is still closed', () => {
  assert.deepEqual(triples('Group: a@b, c@d'), [
    [null, 'Group', null],
    [null, 'a', 'b'],
    [null, 'c', 'd'],
    [null, null, null],
  ]);
});

test('comments are dropped; a trailing comment names a bare address', () => {
  assert.deepEqual(triples('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>'), [['Pete', 'pete', 'silly.test']]);
  assert.deepEqual(triples('jdoe@example.org (John Doe)'), [['John Doe', 'jdoe', 'example.org']]);
  assert.deepEqual(triples('a@b, (comment only), c@d'), [
    [null, 'a', 'b'],
    [null, 'c', 'd'],
  ]);
});

test('obsolete route and CFWS around dots are tolerated (RFC 5322 §4.4)', () => {
  // The route is kept as IMAP's adl (RFC 3501 §7.4.2), the rest parsed as usual.
  assert.deepEqual(parseAddressList('Route <@route1,@route2:user@host>'), [{ name: 'Route', adl: '@route1,@route2', mailbox: 'user', host: 'host' }]);
  assert.deepEqual(triples('john . doe @ example . com'), [[null, 'john.doe', 'example.com']]);
});

test('encoded words stay undecoded; UTF-8 (RFC 6532) passes through', () => {
  assert.deepEqual(triples('=?utf-8?q?J=C3=B6rg?= <j@x.de>'), [['=?utf-8?q?J=C3=B6rg?=', 'j', 'x.de']]);
  assert.deepEqual(triples('Jörg <jörg@bücher.de>'), [['Jörg', 'jörg', 'bücher.de']]);
});

test('quoted local part keeps its quotes', () => {
  assert.deepEqual(triples('"quoted local"@example.com'), [[null, '"quoted local"', 'example.com']]);
});

test('missing parts get placeholders, never a NIL host outside groups', () => {
  assert.deepEqual(triples('undisclosed-recipients'), [[null, 'undisclosed-recipients', MISSING_DOMAIN]]);
  assert.deepEqual(triples('foo@'), [[null, 'foo', MISSING_DOMAIN]]);
  assert.deepEqual(triples('<>'), [[null, MISSING_MAILBOX, MISSING_DOMAIN]]);
});

test('empty and whitespace-only values give no addresses', () => {
  assert.deepEqual(triples(''), []);
  assert.deepEqual(triples('  ,, ; '), []);
});

test('garbage never throws and never yields a NIL host outside group markers', () => {
  for (const value of ['garbage <<<>>> ,,, @@ "unterminated', '(((', '"', '<a@b', 'a:b:c:d;;;', '@@@', '[1.2.3.4', '\\', ':;:;', '<@a:>']) {
    const list = parseAddressList(value);
    let groupDepth = 0;
    for (const address of list) {
      if (address.host === null && address.mailbox !== null) groupDepth++;
      else if (address.host === null) groupDepth--;
      assert.ok(groupDepth >= 0 && groupDepth <= 1, `group markers balanced for ${value}`);
    }
    assert.equal(groupDepth, 0, `groups closed for ${value}`);
  }
});

test('a very long list is bounded and linear', () => {
  const value = Array.from({ length: 5000 }, (_, i) => `User ${i} <user${i}@example.com>`).join(', ');
  const started = Date.now();
  const list = parseAddressList(value);
  assert.ok(Date.now() - started < 2000);
  assert.equal(list.length, 1000);
});

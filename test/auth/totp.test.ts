import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base32Decode, base32Encode, otpauthUri, totp } from '../../src/auth/totp.js';

test('RFC 6238 appendix B test vectors (8 digits, SHA-1, SHA-256, SHA-512)', () => {
  const seeds = {
    sha1: base32Encode(Buffer.from('12345678901234567890')),
    sha256: base32Encode(Buffer.from('12345678901234567890123456789012')),
    sha512: base32Encode(Buffer.from('1234567890123456789012345678901234567890123456789012345678901234')),
  } as const;
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [seconds, sha1, sha256, sha512] of vectors) {
    assert.equal(totp(seeds.sha1, seconds * 1000, { digits: 8 }), sha1, `SHA-1 at ${seconds}`);
    assert.equal(totp(seeds.sha256, seconds * 1000, { digits: 8, algorithm: 'sha256' }), sha256, `SHA-256 at ${seconds}`);
    assert.equal(totp(seeds.sha512, seconds * 1000, { digits: 8, algorithm: 'sha512' }), sha512, `SHA-512 at ${seconds}`);
  }
  // The 6-digit code is the last six digits of the same truncation.
  assert.equal(totp(seeds.sha1, 59_000), '287082');
});

test('base32 round-trips and the otpauth URI carries what authenticator apps read', () => {
  for (const length of [0, 1, 5, 10, 20, 33]) {
    const bytes = Buffer.from(Array.from({ length }, (_, index) => (index * 37 + 11) & 0xff));
    assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
  }
  assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI'); // RFC 4648 §10, unpadded
  const uri = new URL(otpauthUri('JBSWY3DPEHPK3PXP', 'alice@example.com', 'Postkeep'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/Postkeep:alice@example.com');
  assert.equal(uri.searchParams.get('secret'), 'JBSWY3DPEHPK3PXP');
  assert.equal(uri.searchParams.get('issuer'), 'Postkeep');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../src/transfer/modified-utf7.js';

test('the RFC 3501 examples and the names Dovecot writes', () => {
  assert.equal(encodeModifiedUtf7('Entwürfe'), 'Entw&APw-rfe');
  assert.equal(encodeModifiedUtf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  assert.equal(encodeModifiedUtf7('Tom & Jerry'), 'Tom &- Jerry');
  assert.equal(decodeModifiedUtf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  assert.equal(decodeModifiedUtf7('Tom &- Jerry'), 'Tom & Jerry');
  assert.equal(decodeModifiedUtf7('Gesendete Objekte'), 'Gesendete Objekte');
});

test('characters asked for are encoded even when printable', () => {
  assert.equal(encodeModifiedUtf7('v1.2', '.'), 'v1&AC4-2');
  assert.equal(decodeModifiedUtf7('v1&AC4-2'), 'v1.2');
});

test('what is not modified UTF-7 is refused rather than garbled', () => {
  for (const text of ['a&b', '&AB', '&A-', '&ZeVnLIqe!-', '&2D0-' /* lone surrogate */]) {
    assert.equal(decodeModifiedUtf7(text), null, text);
  }
});

test('every text round-trips through printable ASCII', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.constantFrom('', '.', './'), (text, alsoEncode) => {
      const encoded = encodeModifiedUtf7(text, alsoEncode);
      assert.match(encoded, /^[\x20-\x7e]*$/);
      for (const character of alsoEncode) assert.ok(!encoded.includes(character));
      assert.equal(decodeModifiedUtf7(encoded), text);
    }),
  );
});

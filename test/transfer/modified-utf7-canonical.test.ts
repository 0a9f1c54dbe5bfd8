// RFC 3501 §5.1.3 (kept by RFC 9051 §5.1.3): a name has one modified UTF-7 spelling.
// Printable ASCII represents itself, "&" is "&-", runs are never adjacent and leave no
// stray bits; any other spelling decodes to a name it does not show (issue 11 item 10).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeCanonicalModifiedUtf7, decodeModifiedUtf7, encodeModifiedUtf7 } from '../../src/transfer/modified-utf7.js';

test('canonical spellings decode', () => {
  assert.equal(decodeCanonicalModifiedUtf7('Entw&APw-rfe'), 'Entwürfe');
  assert.equal(decodeCanonicalModifiedUtf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  assert.equal(decodeCanonicalModifiedUtf7('Tom &- Jerry'), 'Tom & Jerry');
  assert.equal(decodeCanonicalModifiedUtf7('INBOX'), 'INBOX');
});

test('other spellings of a name are refused, though they decode', () => {
  const spellings: [string, string][] = [
    ['&AC4ALgAv-', '../'], // printable ASCII in base64
    ['&AEkATgBCAE8AWA-', 'INBOX'],
    ['a&AC8-b', 'a/b'], // the hierarchy separator in disguise
    ['&ACY-', '&'], // "&" must be "&-"
    ['&AOQ-&APw-', 'äü'], // a null shift: two adjacent runs
    ['&APx-', 'ü'], // stray bits after the last character (canonical: &APw-)
    ['&AOQAYQ-', 'äa'], // a printable character inside a run
  ];
  for (const [spelling, name] of spellings) {
    assert.equal(decodeModifiedUtf7(spelling), name, `${spelling} decodes`);
    assert.equal(decodeCanonicalModifiedUtf7(spelling), null, spelling);
  }
});

test('whatever the encoder writes is canonical, and nothing else that decodes to the same name is', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const encoded = encodeModifiedUtf7(text);
      assert.equal(decodeCanonicalModifiedUtf7(encoded), text);
    }),
  );
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9&+,\-./]{0,24}$/), (spelling) => {
      const name = decodeCanonicalModifiedUtf7(spelling);
      if (name !== null) assert.equal(encodeModifiedUtf7(name), spelling);
    }),
  );
});

// Hostile input (DESIGN invariant 6): whatever the bytes, the parser returns
// a structure with sane offsets, never throws and finishes quickly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createStructureParser, parseStructure, type MessageStructure } from '../../src/mime/structure.js';
import { checkInvariants } from './invariants.js';

const corpus: Buffer[] = [
  Buffer.from('From: a@b.test\r\nSubject: plain\r\n\r\nHello\r\nworld\r\n'),
  Buffer.from(
    [
      'From: "Joe" <joe@example.com>',
      'To: Group: a@b, c@d;, e@f',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      'preamble',
      '--b1',
      'Content-Type: multipart/alternative; boundary=b2',
      '',
      '--b2',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'text',
      '--b2',
      'Content-Type: text/html',
      '',
      '<p>html</p>',
      '--b2--',
      '--b1',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      'Content-Type: multipart/digest; boundary=b3',
      '',
      '--b3',
      '',
      'Subject: digest entry',
      '',
      'entry',
      '--b3--',
      '--b1',
      "Content-Type: application/octet-stream; name*0*=utf-8''a%20b; name*1=c",
      'Content-Transfer-Encoding: base64',
      '',
      'AAAA',
      '--b1--',
      'epilogue',
      '',
    ].join('\r\n'),
  ),
  Buffer.from('Content-Type: multipart/mixed; boundary=z\n\n--z\n\nlf only\n--z\nContent-Type: message/rfc822\n\nSubject: x\n\ny\n--z--\n'),
];

const tokens = [
  '\r\n', '\n', '\r', '\r\n\r\n', '--', '--b1', '--b1--', '--b2', '--b3', '--z', ':', ' ', '\t', '"', '(', ')', '<', '>', ';', '=',
  'Content-Type: multipart/mixed; boundary=b1\r\n',
  'Content-Type: message/rfc822\r\n\r\n',
  'Content-Type: multipart/digest; boundary=b3\r\n\r\n',
  "; name*0*=x'y'%; name*1*=%ZZ",
  'From: (((\r\n',
  '=?utf-8?q?bad?= =?x?b?!!!?=',
].map((token) => Buffer.from(token));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant('token' as const), at: fc.nat(), token: fc.nat({ max: tokens.length - 1 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat({ max: 32 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.nat({ max: 200 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(message: Buffer, mutations: Mutation[]): Buffer {
  let result = message;
  for (const change of mutations) {
    const at = result.length === 0 ? 0 : change.at % (result.length + 1);
    switch (change.kind) {
      case 'insert':
        result = Buffer.concat([result.subarray(0, at), Buffer.from(change.bytes), result.subarray(at)]);
        break;
      case 'token':
        result = Buffer.concat([result.subarray(0, at), tokens[change.token], result.subarray(at)]);
        break;
      case 'delete':
        result = Buffer.concat([result.subarray(0, at), result.subarray(at + change.length)]);
        break;
      case 'flip':
        if (at < result.length) {
          result = Buffer.from(result);
          result[at] = change.byte;
        }
        break;
      case 'duplicate':
        result = Buffer.concat([result.subarray(0, at + change.length), result.subarray(at)]);
        break;
    }
  }
  return result;
}

async function parseInChunks(message: Buffer, sizes: number[]): Promise<MessageStructure> {
  const parser = createStructureParser();
  let offset = 0;
  let index = 0;
  while (offset < message.length) {
    const size = sizes.length > 0 ? sizes[index++ % sizes.length] : message.length;
    await parser.write(message.subarray(offset, offset + size));
    offset += size;
  }
  return parser.finish();
}

async function checkMessage(message: Buffer, sizes: number[]): Promise<void> {
  const started = Date.now();
  const whole = await parseStructure(message);
  assert.ok(Date.now() - started < 2000, 'bounded time');
  checkInvariants(whole, message);
  assert.deepEqual(await parseInChunks(message, sizes), whole, 'chunking does not change the result');
  assert.deepEqual(JSON.parse(JSON.stringify(whole)), whole, 'JSON-serialisable');
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 5 });

test('random bytes never break the parser', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), chunkSizes, async (bytes, sizes) => {
      await checkMessage(Buffer.from(bytes), sizes);
    }),
    { numRuns: 300 },
  );
});

test('random lines of MIME-ish tokens never break the parser', async () => {
  const line = fc.array(fc.nat({ max: tokens.length - 1 }), { maxLength: 12 }).map((indexes) => Buffer.concat(indexes.map((index) => tokens[index])));
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 60 }), chunkSizes, async (lines, sizes) => {
      await checkMessage(Buffer.concat(lines), sizes);
    }),
    { numRuns: 300 },
  );
});

test('mutations of valid messages never break the parser', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 12 }), chunkSizes, async (index, mutations, sizes) => {
      await checkMessage(mutate(corpus[index], mutations), sizes);
    }),
    { numRuns: 500 },
  );
});

test('the unmutated corpus parses with sane structure', async () => {
  for (const message of corpus) await checkMessage(message, [3]);
});

// Forged Authentication-Results on the MX (issue 11 item 7, RFC 8601 §5): every
// field whose authserv-id is ours (after CFWS, any case, a trailing dot ignored,
// folded or not) is cut out byte-exactly, and nothing else of the message
// changes: stored = prepended headers + received bytes − forged fields. Checked
// on the scanner with random chunking, and through the real MX listener.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { authservIdOf, findForgedAuthenticationResults, FIELD_KEEP, withoutRanges } from '../../src/smtp/forged-authentication-results.js';
import { LineClient } from '../server/tls-harness.js';
import { startHarness, type Harness } from './smtp-harness.js';

const hostname = 'mx.example.com';

async function* chunked(bytes: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let start = 0;
  for (const cut of [...new Set(cuts.map((value) => value % (bytes.length + 1)))].sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function strip(bytes: Buffer, cuts: number[] = []): Promise<{ kept: Buffer; hidden: boolean; removed: number }> {
  const forged = await findForgedAuthenticationResults(chunked(bytes, cuts), hostname);
  const pieces: Buffer[] = [];
  for await (const piece of withoutRanges(chunked(bytes, cuts), forged.ranges)) pieces.push(piece);
  return { kept: Buffer.concat(pieces), hidden: forged.hiddenByBareCarriageReturn, removed: forged.ranges.length };
}

const forgedValues = [
  ' mx.example.com; dkim=pass header.d=bank.test',
  ' (trusted) mx.example.com; dkim=pass',
  ' MX.Example.COM; spf=pass',
  ' mx.example.com.; dmarc=pass',
  '\r\n mx.example.com; dkim=pass',
  '\r\n\t(folded) mx.example.com;\r\n dkim=pass',
  ' "mx.example.com"; dkim=pass',
  ' "mx.example\\.com"; dkim=pass',
  ' (a (nested \\) comment) b)mx.example.com;none',
  ' mx.example.com',
  ' mx.example.com/1; arc=pass',
  ' (unterminated comment mx.example.com; dkim=pass',
];
const keptValues = [' mx.example.com.evil.test; dkim=pass', ' notmx.example.com; dkim=pass', ' other.test; dkim=pass header.d=mx.example.com', ' mx.example.community; spf=pass', ' ; dkim=pass', ' (mx.example.com) other.test; none'];

test('the authserv-id is read after CFWS, as a token or a quoted string', () => {
  assert.deepEqual(authservIdOf(' (trusted (very)) mx.example.com; dkim=pass'), { kind: 'id', id: 'mx.example.com' });
  assert.deepEqual(authservIdOf(' "mx.example\\.com" 1; none'), { kind: 'id', id: 'mx.example.com' });
  assert.deepEqual(authservIdOf('\tmx.example.com.;'), { kind: 'id', id: 'mx.example.com.' });
  assert.deepEqual(authservIdOf(' (open'), { kind: 'unreadable' });
  assert.deepEqual(authservIdOf(' mx.exa', false), { kind: 'unreadable' });
});

test('each forged form is removed, with its continuation lines, and the bytes around it stay', async () => {
  for (const value of forgedValues) {
    for (const name of ['Authentication-Results', 'authentication-results', 'Authentication-Results ']) {
      const field = `${name}:${value}\r\n`;
      const message = Buffer.from(`Received: from a\r\n\tby b\r\n${field}Subject: s\r\nno colon line\r\n\r\nAuthentication-Results: mx.example.com; body line\r\n`);
      const result = await strip(message);
      assert.equal(result.removed, 1, JSON.stringify(field));
      assert.equal(result.kept.toString(), message.toString().replace(field, ''), JSON.stringify(field));
    }
  }
});

test('another authserv-id, a look-alike field name, or an A-R in the body stays', async () => {
  for (const value of keptValues) {
    const message = Buffer.from(`Authentication-Results:${value}\r\nX-Authentication-Results: mx.example.com; x\r\n\r\nAuthentication-Results: mx.example.com; dkim=pass\r\n`);
    const result = await strip(message);
    assert.equal(result.removed, 0, value);
    assert.ok(result.kept.equals(message));
  }
});

test('"\\n\\r\\n" ends the header section as the store reads it; what follows is body and stays', async () => {
  const message = Buffer.from('Subject: s\nAuthentication-Results: mx.example.com; dkim=pass\n\r\nX-Was-Lost: yes\r\nAuthentication-Results: mx.example.com; body\r\n\r\nbody\r\n');
  const result = await strip(message);
  assert.equal(result.removed, 1);
  assert.equal(result.kept.toString(), 'Subject: s\n\r\nX-Was-Lost: yes\r\nAuthentication-Results: mx.example.com; body\r\n\r\nbody\r\n');
});

test('a forged field delimited by a bare CR is reported (the MX refuses it), also split across chunks', async () => {
  for (const message of ['X-Note: a\rAuthentication-Results: mx.example.com; dkim=pass\r\n\r\n', 'Authentication-Results: mx.example.com; dkim=pass\rX: y\r\n\r\n', 'Authentication-Results:\r mx.example.com; dkim=pass\r\n\r\n']) {
    for (let cut = 0; cut <= message.length; cut++) assert.equal((await strip(Buffer.from(message), [cut])).hidden, true, `${JSON.stringify(message)} cut at ${cut}`);
  }
  assert.equal((await strip(Buffer.from('X-Note: a\rb\r\nAuthentication-Results: other.test; x\r\n\r\n'))).hidden, false);
});

test('a comment longer than what the scanner keeps (64 KiB) cannot hide our authserv-id', async () => {
  const long = Buffer.from(`Authentication-Results: (${'x'.repeat(FIELD_KEEP * 2)}) mx.example.com; dkim=pass\r\nSubject: s\r\n\r\nbody`);
  const result = await strip(long);
  assert.equal(result.removed, 1, 'an authserv-id hidden past what is kept counts as ours');
  assert.equal(result.kept.toString(), 'Subject: s\r\n\r\nbody');
});

// The model for the fuzz test: a header section made of whole fields (each with its
// line terminators), each known to be forged or not, an empty line, a body.
const terminator = fc.constantFrom('\r\n', '\n');
const forgedField = fc
  .tuple(fc.constantFrom('Authentication-Results', 'authentication-results', 'AUTHENTICATION-RESULTS', 'Authentication-Results\t'), fc.constantFrom(...forgedValues), fc.constantFrom('', '\r\n\tdkim=pass header.d=x.test', '\n  spf=pass'), terminator)
  .map(([name, value, continuation, end]) => ({ text: `${name}:${value}${continuation}${end}`, forged: true }));
const keptField = fc.oneof(
  fc.tuple(fc.constantFrom(...keptValues), terminator).map(([value, end]) => `Authentication-Results:${value}${end}`),
  fc.tuple(fc.constantFrom('Subject: hello', 'From: a@b.test', 'X-Authentication-Results: mx.example.com; x', 'Authentication-Results-Extra: mx.example.com', 'garbage line without a colon', 'From sender@example.org Mon Nov 30 2026', 'Received: from a\r\n\tby b', 'X-Empty:', 'garbage\r\n Authentication-Results: mx.example.com; x', ':starts with a colon'), terminator).map(([line, end]) => line + end),
).map((text) => ({ text, forged: false }));
const message = fc.record({
  fields: fc.array(fc.oneof(forgedField, keptField), { maxLength: 8 }),
  end: fc.constantFrom('\r\n', '\n'),
  body: fc.array(fc.constantFrom('Authentication-Results: mx.example.com; dkim=pass', 'plain text', '', 'X: y'), { maxLength: 3 }).map((lines) => lines.map((line) => line + '\r\n').join('')),
});

function expectedOf(input: { fields: { text: string; forged: boolean }[]; end: string; body: string }): { received: string; kept: string; removed: number } {
  const received = input.fields.map((field) => field.text).join('') + input.end + input.body;
  const kept = input.fields.filter((field) => !field.forged).map((field) => field.text).join('') + input.end + input.body;
  return { received, kept, removed: input.fields.filter((field) => field.forged).length };
}

test('fuzz: kept = received − forged fields, whatever the chunking', async () => {
  await fc.assert(
    fc.asyncProperty(message, fc.array(fc.nat(), { maxLength: 6 }), async (input, cuts) => {
      const expected = expectedOf(input);
      const result = await strip(Buffer.from(expected.received), cuts);
      assert.equal(result.hidden, false);
      assert.equal(result.removed, expected.removed);
      assert.equal(result.kept.toString(), expected.kept);
    }),
    { numRuns: 2000, seed: 8601 },
  );
});

let harness: Harness;

before(async () => {
  harness = await startHarness({ smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 } } });
});

after(async () => harness.close());

async function deliver(client: LineClient, bytes: Buffer): Promise<string> {
  assert.match(await client.smtp('MAIL FROM:<carol@example.org>'), /^250 /m);
  assert.match(await client.smtp('RCPT TO:<alice@example.com>'), /^250 /m);
  assert.match(await client.smtp('DATA'), /^354 /m);
  client.write(Buffer.from(bytes.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1'));
  return client.smtp('.');
}

async function lastStored(): Promise<Buffer> {
  const inbox = await harness.account.getMailbox('INBOX');
  const records = await harness.account.fetch(inbox.id, {});
  return harness.account.readMessage(inbox.id, records[records.length - 1]!.uid);
}

/** The stored copy is our prepended fields (Return-Path, Received, our own A-R) then exactly `kept`. */
function assertStored(stored: Buffer, kept: string): void {
  const text = stored.toString('latin1');
  assert.ok(text.endsWith(kept), `stored ${JSON.stringify(text.slice(-kept.length - 200))}`);
  const top = text.slice(0, text.length - kept.length);
  assert.match(top, /^Return-Path: <carol@example\.org>\r\nReceived: from /);
  assert.equal(top.match(/(^|\n)Authentication-Results:/g)?.length, 1, top);
  assert.match(top, /\nAuthentication-Results: mx\.example\.com;/);
  assert.ok(top.endsWith('\r\n'));
}

test('through the MX: the issue\'s forms are cut out, lines without a colon and lines after "\\n\\r\\n" stay', async () => {
  const client = await LineClient.connect(harness.mxPort, false);
  try {
    await client.smtp('EHLO client.example.org');
    const cases = [
      'Authentication-Results: (trusted) mx.example.com; dkim=pass\r\nSubject: one\r\n\r\nbody\r\n',
      'Authentication-Results:\r\n mx.example.com; dkim=pass\r\nSubject: two\r\n\r\nbody\r\n',
      'Authentication-Results: mx.example.com.; dkim=pass\r\nSubject: three\r\n\r\nbody\r\n',
      'Subject: four\r\nAuthentication-Results: mx.example.com; dkim=pass\r\nno colon here\r\nFrom sender@example.org\r\n\r\nbody\r\n',
      'Subject: five\nAuthentication-Results: mx.example.com; dkim=pass\n\r\nX-Lost-Before: no\r\n\r\nbody\r\n',
    ];
    for (const received of cases) {
      assert.match(await deliver(client, Buffer.from(received)), /^250 /m);
      const kept = received.replace(/Authentication-Results:(\r\n)? \(?[^\r\n]*\r?\n/, '');
      assert.notEqual(kept, received);
      assertStored(await lastStored(), kept);
    }
    const before = (await harness.account.getMailbox('INBOX')).messages;
    assert.match(await deliver(client, Buffer.from('X-Note: a\rAuthentication-Results: mx.example.com; dkim=pass\r\nSubject: six\r\n\r\nbody\r\n')), /^550 5\.6\.0 /m);
    assert.equal((await harness.account.getMailbox('INBOX')).messages, before, 'nothing stored for the refused one');
    assert.match(await client.smtp('NOOP'), /^250 /m);
  } finally {
    client.close();
  }
});

test('fuzz through the MX: stored = prepended headers + received bytes − forged fields', async () => {
  const client = await LineClient.connect(harness.mxPort, false);
  try {
    await client.smtp('EHLO client.example.org');
    await fc.assert(
      fc.asyncProperty(message, async (input) => {
        const expected = expectedOf(input);
        // Every stored message needs a body line for the final dot; smtp-server ends DATA at CRLF.CRLF.
        const received = expected.received + 'end\r\n';
        assert.match(await deliver(client, Buffer.from(received)), /^250 /m);
        assertStored(await lastStored(), expected.kept + 'end\r\n');
      }),
      { numRuns: 40, seed: 5321 },
    );
  } finally {
    client.close();
  }
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import fc from 'fast-check';
import { readMbox, type MboxMessage } from '../../src/transfer/mbox.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

let directory: string;
beforeEach(async () => (directory = await temporaryDirectory('postkeep-mbox-')));
afterEach(() => fs.rm(directory, { recursive: true, force: true }));

async function readAll(content: string | Buffer): Promise<MboxMessage[]> {
  const file = path.join(directory, 'mail.mbox');
  await fs.writeFile(file, content);
  const messages: MboxMessage[] = [];
  for await (const message of readMbox(file)) messages.push(message);
  return messages;
}

/** An mboxrd writer, as mutt and Dovecot write one: escape, then a blank line after each message. */
function mboxrd(messages: readonly string[]): string {
  return messages.map((message) => 'From sender@example.org Thu Nov 26 10:00:00 2026\n' + message.replace(/^(>*From )/gm, '>$1') + '\n').join('');
}

test('separators split, escaped lines lose one ">", and a "From " in text stays text', async () => {
  const first = 'Subject: one\n\nFrom the start, a line quoted:\n>From here\n>>From there\nsaid "From now on" mid-line\n';
  const second = 'Subject: two\n\nshort\n';
  const file =
    'From alice@example.org Mon Jan  1 10:00:00 2024\n' +
    'Subject: one\n\n>From the start, a line quoted:\n>>From here\n>>>From there\nsaid "From now on" mid-line\n\n' +
    'From bob@example.org Tue Jan  2 11:30:15 2024\n' +
    second;
  const messages = await readAll(file);
  assert.deepEqual(
    messages.map((message) => message.bytes.toString()),
    [first, second],
  );
  assert.equal(messages[0]!.internalDate.toISOString(), '2024-01-01T10:00:00.000Z');
  assert.equal(messages[1]!.internalDate.toISOString(), '2024-01-02T11:30:15.000Z');
});

test('mboxo: an unescaped "From " line without a separator date stays in the body', async () => {
  const messages = await readAll('From - Wed Mar 06 09:15:00 2024\nSubject: x\n\nDear all,\n\nFrom tomorrow on we meet at 10.\n\nFrom - Wed Mar 06 09:16:00 2024\nSubject: y\n\nbye\n');
  assert.equal(messages.length, 2);
  assert.equal(messages[0]!.bytes.toString(), 'Subject: x\n\nDear all,\n\nFrom tomorrow on we meet at 10.\n');
});

test('separator dates with zones, as Google Takeout and others write them', async () => {
  const messages = await readAll(
    'From 1234@xxx Sat Jan 06 00:00:00 +0200 2024\nSubject: a\n\na\n\n' +
      'From x@y Sat Jan  6 00:00:00 2024 -0130\nSubject: b\n\nb\n\n' +
      'From x@y Sat, Jan 6 00:00 2024\nSubject: c\n\nc\n',
  );
  assert.deepEqual(
    messages.map((message) => message.internalDate.toISOString()),
    ['2024-01-05T22:00:00.000Z', '2024-01-06T01:30:00.000Z', '2024-01-06T00:00:00.000Z'],
  );
});

test('without a separator date, the Date: header; without either, now', async () => {
  const before = Date.now();
  const messages = await readAll('From nobody\nDate: Fri, 27 Nov 2026 10:00:00 +0100\nSubject: a\n\na\n\nFrom somebody\nDate: Sat, 28 Nov 2026 10:00:00 +0000\n\nb\nFrom nobody\n');
  assert.deepEqual(messages.map((message) => message.internalDate.toISOString()), ['2026-11-27T09:00:00.000Z', '2026-11-28T10:00:00.000Z']);
  // Not after a blank line, a dateless "From " line is text.
  assert.equal(messages[1]!.bytes.toString(), 'Date: Sat, 28 Nov 2026 10:00:00 +0000\n\nb\nFrom nobody\n');
  const dateless = await readAll('From nobody\nSubject: c\n\nc\n');
  assert.ok(dateless[0]!.internalDate.getTime() >= before && dateless[0]!.internalDate.getTime() <= Date.now());
});

test('Status, X-Status, X-Keywords and Thunderbird headers give flags; the bytes keep them', async () => {
  const headers = 'Subject: flagged\nStatus: RO\nX-Status: AF\nX-Keywords: $Forwarded, Work\n  later\n\nbody\n';
  const messages = await readAll(
    'From a Mon Jan  1 10:00:00 2024\n' + headers + '\n' +
      'From a Mon Jan  1 10:00:00 2024\nSubject: new\nStatus: O\nX-Status: TD\n\nbody\n\n' +
      'From - Mon Jan  1 10:00:00 2024\nX-Mozilla-Status: 0005\nX-Mozilla-Keys: $label1                \nSubject: tb\n\nbody\n',
  );
  assert.equal(messages[0]!.bytes.toString(), headers);
  assert.deepEqual(messages.map((message) => [...message.flags].sort()), [
    ['$Forwarded', 'Work', '\\Answered', '\\Flagged', '\\Seen', 'later'],
    ['\\Deleted', '\\Draft'],
    ['$label1', '\\Flagged', '\\Seen'],
  ]);
});

test('CRLF files, a last message without a final newline, and empty messages', async () => {
  const messages = await readAll('From a Mon Jan  1 10:00:00 2024\r\nSubject: a\r\n\r\na\r\n\r\nFrom a Mon Jan  1 10:00:00 2024\r\n\r\nFrom a Mon Jan  1 10:00:00 2024\r\nSubject: b\r\n\r\nno newline');
  assert.deepEqual(
    messages.map((message) => message.bytes.toString()),
    ['Subject: a\r\n\r\na\r\n', 'Subject: b\r\n\r\nno newline'],
  );
});

test('lines and messages longer than a read chunk come out whole', async () => {
  const long = 'Subject: long\n\n' + 'x'.repeat(700_000) + '\n' + 'y\n'.repeat(200_000);
  const messages = await readAll(mboxrd(['Subject: a\n\na\n', long, 'Subject: c\n\nc\n']));
  assert.equal(messages.length, 3);
  assert.ok(messages[1]!.bytes.equals(Buffer.from(long)));
  assert.equal(messages[2]!.bytes.toString(), 'Subject: c\n\nc\n');
});

test('whatever mboxrd writes, reading gives back the same messages', async () => {
  const line = fc.oneof(
    fc.constantFrom('', 'From ', 'From x Mon Jan  1 10:00:00 2024', '>From ', '>>From x', ' From ', '>', 'From', '\r'),
    fc.string({ unit: fc.constantFrom('a', ' ', '>', 'F', 'r', 'o', 'm', '\r', 'é') }),
  );
  const message = fc.array(line, { minLength: 1, maxLength: 12 }).map((lines) => 'Subject: s\n' + lines.join('\n') + '\n');
  await fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
      const read = await readAll(mboxrd(messages));
      assert.deepEqual(read.map((item) => item.bytes.toString()), messages);
    }),
    { numRuns: 200 },
  );
});

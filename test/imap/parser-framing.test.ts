// The command reader: exact bytes in, commands, continuations and errors out (RFC 9051 §4.3, RFC 7888).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader, parseCommand, type CommandFrame, type ReaderEvent } from '../../src/imap/parser/index.js';
import { readEvents } from './parse-text.js';

function commands(events: ReaderEvent[]): CommandFrame[] {
  return events.flatMap((event) => (event.type === 'command' ? [event.frame] : []));
}

function types(events: ReaderEvent[]): string[] {
  return events.map((event) => event.type);
}

function lineTexts(frame: CommandFrame): string[] {
  return frame.lines.map((line) => line.toString('latin1'));
}

test('CRLF and bare LF both end a line; the CR is dropped', () => {
  const frames = commands(readEvents('a NOOP\r\nb NOOP\nc NOOP\r\n'));
  assert.deepEqual(frames.map((frame) => lineTexts(frame)), [['a NOOP'], ['b NOOP'], ['c NOOP']]);
  assert.deepEqual(frames.map((frame) => frame.tag), ['a', 'b', 'c']);
});

test('a literal announced on a line ending in a bare LF', () => {
  const events = readEvents('a LOGIN {1}\nx {2+}\ny\r\n');
  assert.deepEqual(types(events), ['continuation', 'command']);
  const result = parseCommand(commands(events)[0]!);
  assert.deepEqual(result.ok && result.command, { tag: 'a', name: 'LOGIN', username: 'x', password: 'y\r' });
});

test('a bare CR does not end a line', () => {
  assert.deepEqual(types(readEvents('a NOOP\rb NOOP\r')), []);
});

test('a CR inside a line stays and the parser refuses it', () => {
  const [frame] = commands(readEvents('a NO\rOP\r\n'));
  const result = parseCommand(frame!);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.tag, 'a');
});

test('an incomplete line waits for more bytes', () => {
  const reader = new CommandReader();
  assert.deepEqual(reader.push(Buffer.from('a NO')), []);
  assert.deepEqual(reader.push(Buffer.from('OP\r')), []);
  assert.deepEqual(types(reader.push(Buffer.from('\n'))), ['command']);
});

test('a synchronizing literal asks for a continuation, then completes the command', () => {
  const input = 'a LOGIN {5}\r\nalice {6}\r\nsecret\r\n';
  const events = readEvents(input);
  assert.deepEqual(types(events), ['continuation', 'continuation', 'command']);
  assert.deepEqual(events[0], { type: 'continuation', tag: 'a', size: 5 });
  const result = parseCommand(commands(events)[0]!);
  assert.deepEqual(result.ok && result.command, { tag: 'a', name: 'LOGIN', username: 'alice', password: 'secret' });
});

test('literals split across chunks at every position give the same command', () => {
  const input = Buffer.from('t1 APPEND Drafts (\\Seen) {12}\r\nHello\r\nWorld ~{3}\r\n\x00\x01\x02 {2+}\r\nok\r\nt2 NOOP\r\n', 'latin1');
  const whole = readEvents(input);
  const expected = JSON.stringify(whole);
  for (let first = 0; first <= input.length; first++) {
    const split = readEvents([input.subarray(0, first), input.subarray(first)]);
    assert.equal(JSON.stringify(split), expected, `split at ${first}`);
  }
  // And one byte at a time.
  const bytes = [...input].map((byte) => Buffer.from([byte]));
  assert.equal(JSON.stringify(readEvents(bytes)), expected);
  const result = parseCommand(commands(whole)[0]!);
  assert.ok(result.ok);
  assert.equal(result.command.name, 'APPEND');
  if (result.command.name !== 'APPEND') return;
  assert.deepEqual(
    result.command.messages.map((message) => [message.flags, message.content.kind === 'buffered' && message.content.bytes.toString('latin1'), message.content.binary]),
    [
      [['\\Seen'], 'Hello\r\nWorld', false],
      [[], '\x00\x01\x02', true],
      [[], 'ok', false],
    ],
  );
});

test('a literal may contain CRLF and what looks like commands', () => {
  const events = readEvents('a LOGIN {13}\r\nx\r\nb LOGOUT\r\n {1}\r\ny\r\n');
  const frames = commands(events);
  assert.equal(frames.length, 1);
  const result = parseCommand(frames[0]!);
  assert.deepEqual(result.ok && result.command, { tag: 'a', name: 'LOGIN', username: 'x\r\nb LOGOUT\r\n', password: 'y' });
});

test('LITERAL+ needs no continuation', () => {
  const events = readEvents('a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n');
  assert.deepEqual(types(events), ['command']);
});

test('a zero-length literal', () => {
  const events = readEvents('a LOGIN {0}\r\n {0+}\r\n\r\n');
  assert.deepEqual(types(events), ['continuation', 'command']);
  const result = parseCommand(commands(events)[0]!);
  assert.deepEqual(result.ok && result.command, { tag: 'a', name: 'LOGIN', username: '', password: '' });
  // Ending exactly at the end of a chunk.
  const reader = new CommandReader();
  assert.deepEqual(types(reader.push(Buffer.from('a LOGIN {0}\r\n'))), ['continuation']);
  assert.deepEqual(types(reader.push(Buffer.from(' ""\r\n'))), ['command']);
});

test('LITERAL-: a non-synchronizing literal over 4096 bytes is refused and its bytes are discarded', () => {
  const big = 'x'.repeat(5000);
  const events = readEvents(`a LOGIN {5000+}\r\n${big} {1+}\r\nz\r\nb NOOP\r\n`, { nonSynchronizingLimit: 4096 });
  assert.deepEqual(types(events), ['error', 'command']);
  const error = (events[0] as Extract<ReaderEvent, { type: 'error' }>).error;
  assert.equal(error.tag, 'a');
  assert.equal(error.status, 'BAD');
  assert.equal(error.responseCode, 'TOOBIG');
  assert.deepEqual(lineTexts(commands(events)[0]!), ['b NOOP']);
  // 4096 itself is fine.
  assert.deepEqual(types(readEvents(`a LOGIN {4096+}\r\n${'y'.repeat(4096)} x\r\n`, { nonSynchronizingLimit: 4096 })), ['command']);
});

test('{n-} is not literal syntax (RFC 7888 has none); the line is an ordinary line', () => {
  const events = readEvents('a LOGIN {3-}\r\nabc x\r\n');
  assert.deepEqual(types(events), ['command', 'command']);
  const result = parseCommand(commands(events)[0]!);
  assert.equal(result.ok, false);
});

test('literal8 is read like a literal and marked binary', () => {
  const events = readEvents(Buffer.from('a APPEND INBOX ~{3}\r\n\x00\xff\r\r\n', 'latin1'));
  const frame = commands(events)[0]!;
  assert.deepEqual(frame.literals.map((literal) => literal.kind === 'buffered' && [...literal.bytes]), [[0, 255, 13]]);
  assert.equal(frame.literals[0]!.binary, true);
});

test('a line over the limit is refused with its tag, skipped, and the next command is read', () => {
  const limits = { lineLimit: 100 };
  const long = 'a SEARCH SUBJECT ' + 'x'.repeat(500);
  const events = readEvents(`${long}\r\nb NOOP\r\n`, limits);
  assert.deepEqual(types(events), ['error', 'command']);
  const error = (events[0] as Extract<ReaderEvent, { type: 'error' }>).error;
  assert.equal(error.tag, 'a');
  assert.equal(error.reason, 'line-too-long');
  assert.deepEqual(lineTexts(commands(events)[0]!), ['b NOOP']);
  // Split into small chunks, memory stays bounded while skipping.
  const reader = new CommandReader(limits);
  const seen: string[] = [];
  for (let index = 0; index < 100; index++) {
    seen.push(...types(reader.push(Buffer.from('y'.repeat(1000)))));
    assert.ok(reader.heldBytes <= 200, `held ${reader.heldBytes}`);
  }
  seen.push(...types(reader.push(Buffer.from('\r\nc NOOP\r\n'))));
  assert.deepEqual(seen, ['error', 'command']);
});

test('exactly at the line limit is accepted, one byte more is not', () => {
  const line = 'a NOOP ' + 'x'.repeat(93);
  assert.equal(line.length, 100);
  assert.deepEqual(types(readEvents(`${line}\r\n`, { lineLimit: 100 })), ['command']);
  assert.deepEqual(types(readEvents([`${line}\r`, '\n'], { lineLimit: 100 })), ['command']);
  assert.deepEqual(types(readEvents(`${line}x\r\n`, { lineLimit: 100 })), ['error']);
});

test('an over-long line that announces a non-synchronizing literal: the literal is discarded too', () => {
  const long = 'a APPEND INBOX ' + '('.repeat(300) + ' {10+}';
  const events = readEvents(`${long}\r\nb NOOP\r\nxx\r\nc NOOP\r\n`, { lineLimit: 100 });
  assert.deepEqual(types(events), ['error', 'command']);
  assert.deepEqual(lineTexts(commands(events)[0]!), ['c NOOP']);
});

test('an over-long line whose literal announcement straddles two chunks', () => {
  const long = 'a APPEND INBOX ' + 'x'.repeat(83) + ' {10+}\r\n';
  const rest = '0123456789\r\nc NOOP\r\n';
  for (let cut = 90; cut <= long.length; cut++) {
    const events = readEvents([long.slice(0, cut), long.slice(cut) + rest], { lineLimit: 100 });
    assert.deepEqual(types(events), ['error', 'command'], `cut at ${cut}`);
    assert.deepEqual(lineTexts(commands(events)[0]!), ['c NOOP']);
  }
});

test('an over-long line that announces a synchronizing literal: the client never sends it', () => {
  const long = 'a APPEND INBOX ' + '('.repeat(300) + ' {10}';
  const events = readEvents(`${long}\r\nb NOOP\r\n`, { lineLimit: 100 });
  assert.deepEqual(types(events), ['error', 'command']);
  assert.deepEqual(lineTexts(commands(events)[0]!), ['b NOOP']);
});

test('a synchronizing literal over the limit gets no continuation; the next line is a new command', () => {
  const events = readEvents('a LOGIN {100000}\r\nb NOOP\r\n');
  assert.deepEqual(types(events), ['error', 'command']);
  const error = (events[0] as Extract<ReaderEvent, { type: 'error' }>).error;
  assert.equal(error.status, 'BAD');
  assert.equal(error.tag, 'a');
  assert.deepEqual(lineTexts(commands(events)[0]!), ['b NOOP']);
});

test('a literal size too large for any number is refused', () => {
  const events = readEvents('a LOGIN {99999999999999999999}\r\nb NOOP\r\n');
  assert.deepEqual(types(events), ['error', 'command']);
});

test('an APPEND message over APPENDLIMIT gets NO [TOOBIG] (RFC 7889)', () => {
  const events = readEvents('a APPEND INBOX {2000}\r\nb NOOP\r\n', { appendLimit: 1000 });
  assert.deepEqual(types(events), ['error', 'command']);
  const error = (events[0] as Extract<ReaderEvent, { type: 'error' }>).error;
  assert.equal(error.status, 'NO');
  assert.equal(error.responseCode, 'TOOBIG');
  assert.equal(error.tag, 'a');
  // Non-synchronizing: the bytes come anyway and are skipped.
  const plus = readEvents(`a APPEND INBOX {2000+}\r\n${'m'.repeat(2000)}\r\nb NOOP\r\n`, { appendLimit: 1000 });
  assert.deepEqual(types(plus), ['error', 'command']);
  assert.deepEqual(lineTexts(commands(plus)[0]!), ['b NOOP']);
});

test('large APPEND literals are streamed, not held', () => {
  const size = 300_000;
  const message = Buffer.alloc(size, 'a');
  const reader = new CommandReader({ streamThreshold: 1000 });
  const events: ReaderEvent[] = [];
  events.push(...reader.push(Buffer.from(`s APPEND INBOX (\\Flagged) {${size}}\r\n`)));
  for (let offset = 0; offset < size; offset += 7000) {
    events.push(...reader.push(message.subarray(offset, offset + 7000)));
    assert.ok(reader.heldBytes < 1000);
  }
  events.push(...reader.push(Buffer.from(' {3}\r\nabc\r\n')));
  const kinds = types(events);
  assert.equal(kinds[0], 'continuation');
  assert.equal(kinds[1], 'literal-start');
  assert.equal(kinds.filter((kind) => kind === 'literal-end').length, 1);
  const streamed = events.flatMap((event) => (event.type === 'literal-data' ? [event.data] : []));
  assert.ok(Buffer.concat(streamed).equals(message));
  const result = parseCommand(commands(events)[0]!);
  assert.ok(result.ok && result.command.name === 'APPEND');
  if (!result.ok || result.command.name !== 'APPEND') return;
  assert.deepEqual(result.command.messages[0]!.content, { kind: 'streamed', index: 0, size, binary: false });
  assert.deepEqual(result.command.messages[0]!.flags, ['\\Flagged']);
  const second = result.command.messages[1]!.content;
  assert.ok(second.kind === 'buffered' && second.bytes.toString() === 'abc');
});

test('a literal outside APPEND is never streamed; past the command limit it is refused', () => {
  const events = readEvents(`a LOGIN {60000+}\r\n${'x'.repeat(60000)} {60000+}\r\n${'y'.repeat(60000)}\r\nb NOOP\r\n`, { commandLimit: 100_000 });
  assert.deepEqual(types(events), ['error', 'command']);
  assert.equal((events[0] as Extract<ReaderEvent, { type: 'error' }>).error.reason, 'command-too-large');
});

test('many small lines joined by literals cannot grow past the command limit', () => {
  const piece = 'x {0+}\r\n';
  const events = readEvents(`a SEARCH ${piece.repeat(2000)}ALL\r\nb NOOP\r\n`, { commandLimit: 4000 });
  assert.deepEqual(types(events), ['error', 'command']);
});

test('reset() forgets pipelined bytes (after STARTTLS)', () => {
  const reader = new CommandReader();
  assert.deepEqual(types(reader.push(Buffer.from('a STARTTLS\r\nb LOG'))), ['command']);
  reader.reset();
  const after = reader.push(Buffer.from('c NOOP\r\n'));
  assert.deepEqual(after.map((event) => event.type === 'command' && lineTexts(event.frame)), [['c NOOP']]);
});

test('the tag of an error is null when the line has none', () => {
  const events = readEvents('(((' + 'x'.repeat(200) + '\r\n', { lineLimit: 50 });
  assert.equal((events[0] as Extract<ReaderEvent, { type: 'error' }>).error.tag, null);
});

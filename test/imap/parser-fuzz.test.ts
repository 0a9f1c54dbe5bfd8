// Fuzzing the command reader and parser: whatever the bytes, every command gives a
// typed command or a ParseError, nothing throws, nothing hangs, memory stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CommandReader, isIdleDone, parseCommand, type ReaderEvent } from '../../src/imap/parser/index.js';
import { checkInput, corpus, fuzzInput, newTally } from './command-fuzz.js';

test('every command of the corpus parses', () => {
  for (const text of corpus) {
    for (const event of new CommandReader().push(Buffer.from(text, 'latin1'))) {
      assert.notEqual(event.type, 'error', text);
      if (event.type === 'command' && !isIdleDone(event.frame)) {
        const result = parseCommand(event.frame);
        assert.ok(result.ok, `${JSON.stringify(text)}: ${!result.ok && result.error.message}`);
      }
    }
  }
});

test('random and mutated input: a command or a ParseError, never a throw', () => {
  const tally = newTally();
  const started = performance.now();
  fc.assert(
    fc.property(fuzzInput, (input) => {
      checkInput(input, tally);
    }),
    { numRuns: 20_000, seed: Number(process.env.FUZZ_SEED ?? 1) },
  );
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
  // The generator reaches both outcomes, and the reader's limits.
  assert.ok(tally.parsed > 1000, `parsed ${tally.parsed}`);
  assert.ok(tally.parseErrors > 1000, `errors ${tally.parseErrors}`);
  assert.ok(tally.readerErrors > 100, `reader errors ${tally.readerErrors}`);
});

function normalize(events: ReaderEvent[]): string {
  // Streamed data arrives in pieces that follow the chunks; join them before comparing.
  const merged: unknown[] = [];
  for (const event of events) {
    const last = merged.at(-1) as { type?: string; index?: number; data?: Buffer } | undefined;
    if (event.type === 'literal-data' && last?.type === 'literal-data' && last.index === event.index) last.data = Buffer.concat([last.data!, event.data]);
    else merged.push(event.type === 'literal-data' ? { ...event } : event);
  }
  return JSON.stringify(merged);
}

test('how the bytes are split into chunks never changes what the reader emits', () => {
  fc.assert(
    fc.property(fuzzInput, (input) => {
      const limits = { lineLimit: 200, literalLimit: 150, appendLimit: 400, commandLimit: 600, streamThreshold: 20 };
      const whole = new CommandReader(limits).push(input.bytes);
      const reader = new CommandReader(limits);
      const split: ReaderEvent[] = [];
      let start = 0;
      for (const end of [...new Set(input.cuts.map((cut) => cut % (input.bytes.length + 1)))].sort((a, b) => a - b).concat(input.bytes.length)) {
        split.push(...reader.push(input.bytes.subarray(start, end)));
        start = end;
      }
      assert.equal(normalize(split), normalize(whole));
    }),
    { numRuns: 5_000, seed: 2 },
  );
});

test('pathological lines at the size limit finish quickly', () => {
  const limit = 64 * 1024 - 20;
  const lines = [
    `a SEARCH ${'('.repeat(limit)}`,
    `a SEARCH ${'NOT '.repeat(limit / 4)}ALL`,
    `a SEARCH ${'OR ALL '.repeat(limit / 7)}ALL`,
    `a FETCH ${'1,'.repeat(limit / 2)}1 FLAGS`,
    `a FETCH 1 (${'FLAGS '.repeat(limit / 6)}UID)`,
    `a LOGIN "${'\\"'.repeat(limit / 2)}" x`,
    `a STORE 1 FLAGS (${'x '.repeat(limit / 2)})`,
    `a ID (${'"a" "b" '.repeat(limit / 8)})`,
    `a LIST "" (${'% '.repeat(limit / 2)})`,
    `a FETCH 1 BODY[${'1.'.repeat(limit / 2)}1]`,
    `${'a'.repeat(limit)} NOOP`,
    'a ' + 'x'.repeat(limit),
  ];
  for (const line of lines) {
    const started = performance.now();
    const events = new CommandReader().push(Buffer.from(`${line}\r\n`));
    assert.equal(events.length, 1, line.slice(0, 30));
    const event = events[0]!;
    if (event.type === 'command') {
      const result = parseCommand(event.frame);
      assert.ok(result.ok || result.error.reason !== 'internal', line.slice(0, 30));
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 200, `${line.slice(0, 30)}: ${elapsed.toFixed(0)} ms`);
  }
});

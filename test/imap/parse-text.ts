// Test helpers: run text through the command reader and the parser.
import assert from 'node:assert/strict';
import { CommandReader, parseCommand, type Command, type CommandReaderLimits, type ParseError, type ParseOptions, type ReaderEvent } from '../../src/imap/parser/index.js';

/** Everything the reader emits for `input` pushed in one chunk (or in the given chunks). */
export function readEvents(input: string | Buffer | (string | Buffer)[], limits: Partial<CommandReaderLimits> = {}): ReaderEvent[] {
  const reader = new CommandReader(limits);
  const chunks = Array.isArray(input) ? input : [input];
  return chunks.flatMap((chunk) => reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
}

/** `input` must hold exactly one command; returns what the parser makes of it. */
export function parseText(input: string | Buffer, options: ParseOptions = {}): { ok: true; command: Command } | { ok: false; error: ParseError } {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const events = readEvents(bytes).filter((event) => event.type !== 'continuation');
  assert.equal(events.length, 1, `expected one event, got ${JSON.stringify(events.map((event) => event.type))}`);
  const event = events[0]!;
  assert.equal(event.type, 'command');
  return parseCommand((event as Extract<ReaderEvent, { type: 'command' }>).frame, options);
}

export function parseOk(input: string | Buffer, options: ParseOptions = {}): Command {
  const result = parseText(input, options);
  if (!result.ok) assert.fail(`${JSON.stringify(input.toString())} failed: ${result.error.message}`);
  return result.command;
}

export function parseFails(input: string | Buffer, options: ParseOptions = {}): ParseError {
  const result = parseText(input, options);
  if (result.ok) assert.fail(`${JSON.stringify(input.toString())} parsed: ${JSON.stringify(result.command)}`);
  assert.notEqual(result.error.reason, 'internal', result.error.message);
  return result.error;
}

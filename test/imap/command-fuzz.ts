// Hostile input for the IMAP command reader and parser (DESIGN invariant 6), shared by
// test/imap/parser-fuzz.test.ts and bench/fuzz-imap.ts: random bytes and mutations of
// valid commands, split into random chunks.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CommandReader, ParseError, parseCommand, type ReaderEvent } from '../../src/imap/parser/index.js';

export const corpus: string[] = [
  'a CAPABILITY\r\n',
  'a1 LOGIN alice "s\\"ecret"\r\n',
  'a2 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n',
  'a3 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n',
  'a4 ENABLE CONDSTORE QRESYNC UTF8=ACCEPT\r\n',
  'a5 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3,5 4:6,9)))\r\n',
  'a6 EXAMINE "Entw&APw-rfe" (CONDSTORE)\r\n',
  'a7 CREATE Drafts (USE (\\Drafts))\r\n',
  'a8 RENAME {3+}\r\nold new\r\n',
  'a9 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("*" %) RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES SIZE))\r\n',
  'b1 LSUB "" %\r\n',
  'b2 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ MAILBOXID APPENDLIMIT)\r\n',
  'b3 APPEND INBOX (\\Seen $Junk) " 7-Feb-1994 21:52:25 -0800" {12}\r\nHello\r\nWorld ~{3+}\r\n\x00\x01\x02 UTF8 (~{2+}\r\nhi)\r\n',
  'b4 IDLE\r\nDONE\r\n',
  'b5 UID SEARCH RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 OR (FROM "x" SINCE 1-Feb-1994) NOT (UID $ MODSEQ "/flags/\\\\draft" all 5) HEADER X-A {3}\r\nabc\r\n',
  'b6 SEARCH 1:5,* LARGER 100 SMALLER 9000 KEYWORD $Junk UNKEYWORD x BEFORE 1-Jan-2000 OLDER 60 EMAILID M1 NEW OLD RECENT\r\n',
  'b7 FETCH 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[1] BINARY.SIZE[2] MODSEQ EMAILID THREADID) (CHANGEDSINCE 5)\r\n',
  'b8 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n',
  'b9 FETCH $ FULL\r\n',
  'c1 STORE 1:3 (UNCHANGEDSINCE 7) +FLAGS.SILENT (\\Deleted $Label)\r\n',
  'c2 UID STORE 5 -FLAGS \\Seen \\Answered\r\n',
  'c3 UID MOVE 42:69 Trash\r\n',
  'c4 COPY 2:4 {7}\r\nMEETING\r\n',
  'c5 UID EXPUNGE 3000:3002\r\n',
  'c6 ID ("name" "client" "version" NIL)\r\n',
  'c7 UID SORT (REVERSE ARRIVAL SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n',
  'c8 THREAD REFERENCES UTF-8 ALL\r\n',
  'c9 GETQUOTAROOT INBOX\r\n',
  'd1 GETQUOTA ""\r\n',
  'd2 COMPRESS DEFLATE\r\n',
  'd3 NAMESPACE\r\n',
  'd4 CLOSE\r\nd5 UNSELECT\r\nd6 EXPUNGE\r\nd7 CHECK\r\nd8 NOOP\r\nd9 LOGOUT\r\n',
];

const tokens = [
  '\r\n', '\n', '\r', ' ', '  ', '(', ')', '((((', '))))', '[', ']', '<', '>', '<0.1>', '{', '}', '{0}\r\n', '{1}\r\n', '{5+}\r\n',
  '~{3}\r\n', '{99999999999999999999}\r\n', '{4294967296+}\r\n', '"', '\\', '\\"', '*', '%', '$', ':', ',', '.', '+', '-', '~',
  'NIL', 'UID ', 'OR ', 'NOT ', 'BODY[', 'BODY.PEEK[', 'HEADER.FIELDS ', 'MIME', 'TEXT', '1.2.3', '0', '4294967295', '18446744073709551616',
  'RETURN ', 'CHARSET ', 'UTF8 ', 'INBOX', '&', '&-', '&AAA-', '\x00', '\xff', '\xc3\xa9', 'A',
];

function applyMutation(bytes: Buffer, [kind, position, length, value]: [number, number, number, number]): Buffer {
  const at = bytes.length === 0 ? 0 : position % (bytes.length + 1);
  switch (kind) {
    case 0: // flip a byte
      if (bytes.length === 0) return bytes;
      return Buffer.concat([bytes.subarray(0, at % bytes.length), Buffer.from([value]), bytes.subarray((at % bytes.length) + 1)]);
    case 1: // delete a run
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
    case 2: // insert a token
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(tokens[value % tokens.length]!, 'latin1'), bytes.subarray(at)]);
    case 3: // duplicate a run
      return Buffer.concat([bytes.subarray(0, at + length), bytes.subarray(at, at + length), bytes.subarray(at)]);
    default: // cut
      return bytes.subarray(0, at);
  }
}

export interface FuzzInput {
  bytes: Buffer;
  cuts: number[];
  utf8: boolean;
}

const mutation = fc.tuple(fc.nat(4), fc.nat(), fc.integer({ min: 0, max: 40 }), fc.nat(255));

const mutated = fc
  .tuple(fc.array(fc.constantFrom(...corpus), { minLength: 1, maxLength: 3 }), fc.array(mutation, { maxLength: 8 }))
  .map(([pieces, mutations]) => mutations.reduce(applyMutation, Buffer.from(pieces.join(''), 'latin1')));

const random = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));

const tokenSoup = fc.array(fc.constantFrom(...tokens, ...corpus.map((line) => line.split(' ')[1] ?? 'x')), { maxLength: 40 }).map((parts) => Buffer.from('t ' + parts.join(''), 'latin1'));

export const fuzzInput: fc.Arbitrary<FuzzInput> = fc.record({
  bytes: fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: random }, { weight: 1, arbitrary: tokenSoup }),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  utf8: fc.boolean(),
});

// Small limits so that every limit is crossed often.
const limits = { lineLimit: 200, literalLimit: 150, appendLimit: 400, commandLimit: 600, streamThreshold: 20, nonSynchronizingLimit: 300 };

export interface FuzzTally {
  commands: number;
  parsed: number;
  parseErrors: number;
  readerErrors: number;
}

export function newTally(): FuzzTally {
  return { commands: 0, parsed: 0, parseErrors: 0, readerErrors: 0 };
}

/** Runs one input; throws (an assertion) only when the reader or parser misbehaves. */
export function checkInput(input: FuzzInput, tally: FuzzTally = newTally()): void {
  const reader = new CommandReader(limits);
  const cuts = [...new Set(input.cuts.map((cut) => cut % (input.bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  const events: ReaderEvent[] = [];
  for (const end of [...cuts, input.bytes.length]) {
    if (end > start) events.push(...reader.push(input.bytes.subarray(start, end)));
    start = end;
    // Bounded memory: one line (plus the CR) and one command's buffered literals at most.
    assert.ok(reader.heldBytes <= limits.commandLimit + limits.lineLimit + 1, `reader holds ${reader.heldBytes} bytes`);
  }
  for (const event of events) {
    if (event.type === 'error') {
      assert.ok(event.error instanceof ParseError);
      tally.readerErrors++;
    } else if (event.type === 'command') {
      tally.commands++;
      const result = parseCommand(event.frame, { utf8: input.utf8 });
      if (result.ok) {
        tally.parsed++;
        assert.equal(typeof result.command.tag, 'string');
      } else {
        assert.ok(result.error instanceof ParseError);
        assert.notEqual(result.error.reason, 'internal', `parser failed inside: ${result.error.message}`);
        assert.ok(result.error.message.length > 0);
        tally.parseErrors++;
      }
    }
  }
}

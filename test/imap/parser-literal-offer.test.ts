// The command reader offers each APPEND literal to its caller before reading it
// (confirmAppendLiterals), so that quota and spool room can refuse it before a
// continuation is sent or a byte of it is kept (RFC 7889 §4, RFC 7888 §4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandReader, ParseError, type ReaderEvent } from '../../src/imap/parser/index.js';

const confirming = () => new CommandReader({ streamThreshold: 10 }, { confirmAppendLiterals: true });
const types = (events: ReaderEvent[]) => events.map((event) => event.type);
const offerOf = (events: ReaderEvent[]) => {
  const event = events.find((candidate) => candidate.type === 'literal-offer');
  assert.ok(event && event.type === 'literal-offer');
  return event.offer;
};
const refusal = () => new ParseError('literal-refused', 'over quota', { status: 'NO', responseCode: 'OVERQUOTA' });

test('a synchronizing APPEND literal is offered first; admitted, it gets its continuation and streams', () => {
  const reader = confirming();
  const events = reader.push(Buffer.from('a APPEND INBOX {20}\r\n'));
  assert.deepEqual(types(events), ['literal-offer']);
  const offer = offerOf(events);
  assert.deepEqual({ ...offer, serial: 0 }, { tag: 'a', index: 0, size: 20, binary: false, synchronizing: true, streamed: true, serial: 0 });
  assert.equal(reader.pendingOffer, offer);
  assert.deepEqual(types(reader.decide(offer.serial, null)), ['continuation', 'literal-start']);
  assert.deepEqual(types(reader.push(Buffer.from('01234567890123456789\r\n'))), ['literal-data', 'literal-end', 'command']);
});

test('refused, a synchronizing literal gets the error and the next line is a new command', () => {
  const reader = confirming();
  const offer = offerOf(reader.push(Buffer.from('a APPEND INBOX {20}\r\n')));
  const events = reader.decide(offer.serial, refusal());
  assert.deepEqual(types(events), ['error']);
  assert.equal(events[0]!.type === 'error' && events[0]!.error.tag, 'a');
  assert.equal(reader.pendingOffer, null);
  const next = reader.push(Buffer.from('b NOOP\r\n'));
  assert.deepEqual(types(next), ['command']);
  assert.equal(next[0]!.type === 'command' && next[0]!.frame.tag, 'b');
});

test('a LITERAL+ literal that arrives while offered is held unread; refused, it is thrown away (never handed out)', () => {
  const reader = confirming();
  const events = reader.push(Buffer.from('a APPEND INBOX {20+}\r\n0123456789'));
  const offer = offerOf(events);
  assert.deepEqual(types(events), ['literal-offer']);
  assert.deepEqual(reader.push(Buffer.from('0123456789 {5+}\r\nabcde\r\nb NOOP\r\n')), []);
  assert.ok(reader.heldBytes >= 30);
  const after = reader.decide(offer.serial, refusal());
  // The rest of the refused command (its second literal too) is skipped; the next command runs.
  assert.deepEqual(types(after), ['error', 'command']);
  assert.equal(after[1]!.type === 'command' && after[1]!.frame.tag, 'b');
});

test('held bytes with a second literal offer it in turn (MULTIAPPEND)', () => {
  const reader = confirming();
  const first = offerOf(reader.push(Buffer.from('a APPEND INBOX {12+}\r\nhello world! {12+}\r\nsecond one!!\r\n')));
  const events = reader.decide(first.serial, null);
  assert.deepEqual(types(events), ['literal-start', 'literal-data', 'literal-end', 'literal-offer']);
  const second = offerOf(events);
  assert.equal(second.index, 1);
  assert.deepEqual(types(reader.decide(second.serial, null)), ['literal-start', 'literal-data', 'literal-end', 'command']);
});

test('a decision for an offer that a reset dropped does nothing', () => {
  const reader = confirming();
  const offer = offerOf(reader.push(Buffer.from('a APPEND INBOX {20}\r\n')));
  reader.reset();
  assert.deepEqual(reader.decide(offer.serial, null), []);
  assert.deepEqual(types(reader.push(Buffer.from('b NOOP\r\n'))), ['command']);
});

test('without confirmAppendLiterals nothing changes: the continuation comes at once', () => {
  const reader = new CommandReader({ streamThreshold: 10 });
  assert.deepEqual(types(reader.push(Buffer.from('a APPEND INBOX {20}\r\n'))), ['continuation', 'literal-start']);
});

test('admitting every offer at once gives the same events as a reader that does not ask, however the bytes are split', async () => {
  const { default: fc } = await import('fast-check');
  const input = Buffer.from('a APPEND INBOX {12}\r\nhello world! {3+}\r\nabc ~{4}\r\n\x00\x01\x02\x03\r\nb NOOP\r\nc APPEND Drafts (\\Seen) {0+}\r\n\r\nd APPEND {5}\r\nINBOX {20+}\r\n01234567890123456789\r\n', 'latin1');
  const summarize = (events: ReaderEvent[]) =>
    events
      .filter((event) => event.type !== 'literal-offer')
      .map((event) => (event.type === 'literal-data' ? `data:${event.data.toString('latin1')}` : event.type === 'command' ? `command:${event.frame.lines.map(String).join('|')}` : event.type))
      .join('\n')
      .replace(/\ndata:/g, '');
  const plain = summarize(new CommandReader({ streamThreshold: 10 }).push(input));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 8 }), (cuts) => {
      const reader = confirming();
      const events: ReaderEvent[] = [];
      const take = (batch: ReaderEvent[]) => {
        for (const event of batch) {
          events.push(event);
          if (event.type === 'literal-offer') take(reader.decide(event.offer.serial, null));
        }
      };
      const points = [0, ...[...new Set(cuts)].sort((x, y) => x - y), input.length];
      for (let index = 1; index < points.length; index++) take(reader.push(input.subarray(points[index - 1], points[index])));
      assert.equal(summarize(events), plain);
    }),
  );
});

// sequence-set (RFC 9051 §9) and SEARCHRES's `$` (RFC 5182 §2).
import { syntaxError, type Cursor } from './cursor.js';
import type { NumberRanges, SequenceSet } from './types.js';

const maximumRanges = 100_000;

function sequenceNumber(cursor: Cursor): number {
  if (cursor.take(0x2a)) return Infinity;
  return cursor.number('sequence number', true);
}

/** Ranges only (no `$`): QRESYNC known-uids and seq-match-data. */
export function readNumberRanges(cursor: Cursor): NumberRanges {
  const ranges: NumberRanges = [];
  for (;;) {
    const from = sequenceNumber(cursor);
    const to = cursor.take(0x3a) ? sequenceNumber(cursor) : from;
    ranges.push([from, to]);
    if (ranges.length > maximumRanges) throw syntaxError('sequence set has too many ranges');
    if (!cursor.take(0x2c)) return ranges;
  }
}

export function readSequenceSet(cursor: Cursor): SequenceSet {
  if (cursor.take(0x24)) return '$';
  return readNumberRanges(cursor);
}

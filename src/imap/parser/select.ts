// SELECT and EXAMINE (RFC 9051 §6.3.2-3) with CONDSTORE and QRESYNC parameters (RFC 7162 §3.1.8, §3.2.5).
import { syntaxError, type Cursor } from './cursor.js';
import { readMailbox } from './mailbox.js';
import { readNumberRanges } from './sequence-set.js';
import type { Command, NumberRanges, ParseOptions, QresyncParameters } from './types.js';

function knownRanges(cursor: Cursor, what: string): NumberRanges {
  const ranges = readNumberRanges(cursor);
  // RFC 7162 §3.2.5: "*" is not allowed in known-uids and seq-match-data.
  if (ranges.some(([from, to]) => from === Infinity || to === Infinity)) throw syntaxError(`"*" is not allowed in ${what}`);
  return ranges;
}

// "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
function readQresync(cursor: Cursor): QresyncParameters {
  cursor.expect('(');
  const uidValidity = cursor.number('UIDVALIDITY', true);
  cursor.space();
  const modseq = cursor.number64('mod-sequence');
  if (modseq === 0) throw syntaxError('mod-sequence must not be zero');
  let knownUids: NumberRanges | null = null;
  let sequenceMatch: QresyncParameters['sequenceMatch'] = null;
  if (cursor.trySpace() && !cursor.is(0x28)) {
    knownUids = knownRanges(cursor, 'known UIDs');
    if (!cursor.trySpace()) {
      cursor.expect(')');
      return { uidValidity, modseq, knownUids, sequenceMatch };
    }
  }
  if (cursor.is(0x28)) {
    cursor.expect('(');
    const sequences = knownRanges(cursor, 'known sequence set');
    cursor.space();
    const uids = knownRanges(cursor, 'known UID set');
    cursor.expect(')');
    sequenceMatch = { sequences, uids };
  }
  cursor.expect(')');
  return { uidValidity, modseq, knownUids, sequenceMatch };
}

export function readSelect(cursor: Cursor, tag: string, name: 'SELECT' | 'EXAMINE', options: ParseOptions): Extract<Command, { name: 'SELECT' | 'EXAMINE' }> {
  cursor.space();
  const mailbox = readMailbox(cursor, options);
  let condstore = false;
  let qresync: QresyncParameters | null = null;
  if (cursor.trySpace()) {
    cursor.list(
      () => {
        const parameter = cursor.keyword('select parameter');
        if (parameter === 'CONDSTORE') condstore = true;
        else if (parameter === 'QRESYNC') {
          if (qresync) throw syntaxError('QRESYNC given twice');
          cursor.space();
          qresync = readQresync(cursor);
        } else throw syntaxError(`unknown select parameter ${parameter}`);
      },
      { what: 'select parameters', limit: 10 },
    );
  }
  cursor.end();
  return { tag, name, mailbox, condstore, qresync };
}

// FETCH — RFC 9051 §6.4.5 and §7.5.2, CONDSTORE MODSEQ/CHANGEDSINCE (RFC 7162 §3.1.4),
// EMAILID/THREADID (RFC 8474 §5). Selected state.
//
// The answer streams: records are read in batches, each message's response is written
// and the socket drained before the next (ResponseWriter), so neither a large mailbox
// nor many large messages are ever held at once. Message bytes are read verified; a
// message that fails verification is skipped, logged, and the FETCH ends in NO
// [UNAVAILABLE] after the others were sent (DESIGN.md invariant 2).
import { IntegrityError, NotFound } from '../../errors.js';
import type { Readable } from 'node:stream';
import type { MessageRecord } from '../../store/types.js';
import { bodyStructure, decodedPart, envelope, sectionBytes, sectionName } from '../message-format.js';
import type { FetchItem, FetchPartial } from '../parser/index.js';
import { concat, ConnectionBroken, ImapReply, no } from '../response.js';
import { formatNumberSet, toNumberSet, type Session } from '../session.js';
import { defineCommand, selectedState } from './command.js';

const batchSize = 100;
/** Whole messages larger than this are streamed from the blob store instead of read into memory. */
const streamThreshold = 1024 * 1024;
/** How many messages FETCH reads ahead, and the largest it reads ahead (so at most 8 MB held). */
const readAheadCount = 8;
const readAheadLimit = 1024 * 1024;
/** Where the streamed message's bytes go among the pieces of a response. */
const streamedBody = Symbol('streamed body');
type Piece = string | Buffer | typeof streamedBody;

function isWholeMessage(item: FetchItem): boolean {
  if (item.item === 'RFC822') return true;
  return item.item === 'BODY[]' && item.section.part.length === 0 && item.section.text === null && item.partial === null;
}
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** date-time (RFC 9051 §9): "27-Nov-2026 10:00:00 +0000", always in UTC. */
export function formatDateTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, ' ');
  return `"${day}-${months[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000"`;
}

function partial(bytes: Buffer, range: FetchPartial | null): Buffer {
  if (!range) return bytes;
  return bytes.subarray(Math.min(range.offset, bytes.length), Math.min(range.offset + range.length, bytes.length));
}

// RFC 9051 §6.4.5: items that set \Seen unless the mailbox is read-only.
function setsSeen(item: FetchItem): boolean {
  if (item.item === 'BODY[]' || item.item === 'BINARY[]') return !item.peek;
  return item.item === 'RFC822' || item.item === 'RFC822.TEXT';
}

function needsBytes(item: FetchItem): boolean {
  return item.item === 'BODY[]' || item.item === 'BINARY.SIZE' || item.item === 'BINARY[]' || item.item === 'RFC822' || item.item === 'RFC822.HEADER' || item.item === 'RFC822.TEXT';
}

function needsStructure(item: FetchItem): boolean {
  return needsBytes(item) || item.item === 'ENVELOPE' || item.item === 'BODY' || item.item === 'BODYSTRUCTURE';
}

export default defineCommand({
  name: 'FETCH',
  states: selectedState,
  async handler(session, command) {
    const view = session.view;
    const items = [...command.items];
    const changedSince = command.modifiers.changedSince;
    if (changedSince !== null || items.some((item) => item.item === 'MODSEQ')) await session.enableCondstore();
    // RFC 9051 §6.4.8: UID FETCH always returns UID; RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
    if ((command.uid || session.qresync) && !items.some((item) => item.item === 'UID')) items.unshift({ item: 'UID' });
    if (changedSince !== null && !items.some((item) => item.item === 'MODSEQ')) items.push({ item: 'MODSEQ' });
    const markSeen = !view.readOnly && items.some(setsSeen);
    if (markSeen && !items.some((item) => item.item === 'FLAGS')) items.push({ item: 'FLAGS' });
    const withStructure = items.some(needsStructure);
    const bytesNeeded = items.some(needsBytes);
    // One whole-message item and no other byte item: a large message can be streamed.
    const streamable = items.filter(needsBytes).length === 1 && items.some(isWholeMessage);

    if (command.modifiers.vanished) {
      // RFC 7162 §3.2.6: UID FETCH (CHANGEDSINCE m VANISHED) first says what was expunged since m.
      if (!session.qresync) throw new ImapReply('BAD', 'VANISHED needs ENABLE QRESYNC');
      if (command.set === '$') throw new ImapReply('BAD', 'SEARCHRES ($) is not supported');
      const vanished = await session.vanishedSince(changedSince!, command.set);
      if (vanished.length > 0) await session.writer.untagged(`VANISHED (EARLIER) ${formatNumberSet(vanished)}`);
    }
    const uids = session.resolve(command.set, command.uid);
    let unavailable = 0;
    let expunged = 0;
    for (let start = 0; start < uids.length; start += batchSize) {
      const batch = uids.slice(start, start + batchSize);
      const records = await session.mail.fetch(view.id, {
        uids: toNumberSet(batch),
        withStructure,
        ...(changedSince !== null ? { changedSince } : {}),
        onWithheld: () => unavailable++, // a record that failed its checksum: NO [UNAVAILABLE], never its edited fields
      });
      if (markSeen) await markAsSeen(session, records);
      // Small messages are read (and verified) a few ahead of the one being answered: each
      // read is open, read, hash and close on the thread pool, and one after another they
      // made a 100-message FETCH wait for hundreds of round trips. Bounded per connection.
      const reads = new Map<number, Promise<Buffer>>();
      const readAhead = (from: number) => {
        for (let next = from; next < Math.min(records.length, from + readAheadCount); next++) {
          const ahead = records[next]!;
          if (reads.has(ahead.uid) || ahead.size > readAheadLimit || (streamable && ahead.size > streamThreshold)) continue;
          const read = session.mail.readMessage(view.id, ahead.uid);
          read.catch(() => {}); // its error is handled where it is awaited
          reads.set(ahead.uid, read);
        }
      };
      for (const [position, record] of records.entries()) {
        const sequence = session.sequenceOf(record.uid);
        if (sequence === 0) continue;
        let message: Buffer | null = null;
        let stream: Readable | null = null;
        if (bytesNeeded) {
          readAhead(position);
          try {
            // openMessage verifies the blob before its first byte is handed out.
            if (streamable && record.size > streamThreshold) stream = await session.mail.openMessage(view.id, record.uid);
            else message = await (reads.get(record.uid) ?? session.mail.readMessage(view.id, record.uid));
          } catch (error) {
            // Expunged by another session while this one still numbers it (RFC 9051 §7.1 EXPUNGEISSUED).
            if (error instanceof NotFound) {
              expunged++;
              continue;
            }
            if (!(error instanceof IntegrityError)) throw error;
            unavailable++;
            session.log.error('imap.fetch_unavailable', { login: session.mail.login, mailboxId: view.id, uid: record.uid, blobHash: error.blobHash });
            continue;
          }
        }
        if (items.some((item) => item.item === 'FLAGS')) await session.noteFlags(record.flags);
        await writePieces(session, ['* ', String(sequence), ' FETCH (', ...renderItems(session, items, record, message), ')\r\n'], stream, record.size);
      }
    }
    if (expunged > 0 && unavailable === 0) return no('some of the requested messages no longer exist (expunged by another session); the others were sent', 'EXPUNGEISSUED');
    if (unavailable > 0) return no(`${unavailable} message(s) unavailable: stored copy failed verification; the others were sent`, 'UNAVAILABLE');
    return new ImapReply('OK', `${command.uid ? 'UID FETCH' : 'FETCH'} completed`);
  },
});

async function markAsSeen(session: Session, records: MessageRecord[]): Promise<void> {
  const unseen = records.filter((record) => !record.flags.includes('\\Seen')).map((record) => record.uid);
  if (unseen.length === 0) return;
  const result = await session.mail.updateFlags(session.view.id, toNumberSet(unseen), { mode: 'add', flags: ['\\Seen'] });
  session.view.ownModseqs.add(result.modseq);
  const updated = new Map(result.updated.map((entry) => [entry.uid, entry]));
  for (const record of records) {
    const change = updated.get(record.uid);
    if (change) {
      record.flags = change.flags;
      record.modseq = change.modseq;
    }
  }
}

function renderItems(session: Session, items: FetchItem[], record: MessageRecord, message: Buffer | null): Piece[] {
  const utf8 = session.utf8;
  const out: Piece[] = [];
  const whole = (): Piece[] => (message ? literal(message) : [`{${record.size}}\r\n`, streamedBody]);
  const add = (...pieces: Piece[]) => {
    if (out.length > 0) out.push(' ');
    out.push(...pieces);
  };
  const structure = record.structure;
  for (const item of items) {
    switch (item.item) {
      case 'UID': add(`UID ${record.uid}`); break;
      case 'FLAGS': add(`FLAGS (${session.displayFlags(record.uid, record.flags)})`); break;
      case 'INTERNALDATE': add('INTERNALDATE ', formatDateTime(record.internalDate)); break;
      case 'SAVEDATE': add('SAVEDATE ', formatDateTime(record.saveDate)); break;
      case 'RFC822.SIZE': add(`RFC822.SIZE ${record.size}`); break;
      case 'MODSEQ': add(`MODSEQ (${record.modseq})`); break;
      case 'EMAILID': add(`EMAILID (${record.emailId})`); break;
      case 'THREADID': add(`THREADID (${record.threadId})`); break;
      case 'ENVELOPE': add('ENVELOPE ', envelope(structure!.envelope, utf8)); break;
      case 'BODY': add('BODY ', bodyStructure(structure!, false, utf8)); break;
      case 'BODYSTRUCTURE': add('BODYSTRUCTURE ', bodyStructure(structure!, true, utf8)); break;
      case 'RFC822': add('RFC822 ', ...whole()); break;
      case 'RFC822.HEADER': add('RFC822.HEADER ', ...literal(sectionBytes(message!, structure!, { part: [], text: { kind: 'HEADER' } })!)); break;
      case 'RFC822.TEXT': add('RFC822.TEXT ', ...literal(sectionBytes(message!, structure!, { part: [], text: { kind: 'TEXT' } })!)); break;
      case 'BODY[]': {
        if (!message) {
          add('BODY[] ', ...whole());
          break;
        }
        const bytes = sectionBytes(message!, structure!, item.section);
        // RFC 9051 §6.4.5: a section that does not exist is returned as empty.
        const data = partial(bytes ?? Buffer.alloc(0), item.partial);
        const origin = item.partial ? `<${item.partial.offset}>` : '';
        add(`BODY[${sectionName(item.section)}]${origin} `, ...literal(data));
        break;
      }
      case 'BINARY[]':
      case 'BINARY.SIZE': {
        const decoded = decodedPart(message!, structure!, item.part);
        // RFC 3516 §4.3: an encoding the server cannot decode is NO [UNKNOWN-CTE].
        if (decoded === null) throw no('unknown Content-Transfer-Encoding', 'UNKNOWN-CTE');
        const data = decoded ?? Buffer.alloc(0);
        if (item.item === 'BINARY.SIZE') {
          add(`BINARY.SIZE[${item.part.join('.')}] ${data.length}`);
          break;
        }
        const slice = partial(data, item.partial);
        const origin = item.partial ? `<${item.partial.offset}>` : '';
        // literal8 (~{n}) only when the bytes hold a NUL (RFC 3516 §4.2).
        add(`BINARY[${item.part.join('.')}]${origin} `, ...(slice.includes(0) ? [`~{${slice.length}}\r\n`, slice] : literal(slice)));
        break;
      }
    }
  }
  return out;
}

// Message text always goes as a literal so that no byte needs quoting; the bytes are
// kept as their own piece so that a large body is written without being copied.
function literal(bytes: Buffer): (string | Buffer)[] {
  return [`{${bytes.length}}\r\n`, bytes];
}

const coalesceLimit = 16 * 1024;

/** Small pieces are joined into one write; large literals are written as they are, with backpressure. */
async function writePieces(session: Session, pieces: Piece[], stream: Readable | null, expectedSize = 0): Promise<void> {
  let pending: (string | Buffer)[] = [];
  for (const piece of pieces) {
    if (piece === streamedBody) {
      if (pending.length > 0) await session.writer.write(concat(pending));
      pending = [];
      let written = 0;
      try {
        for await (const chunk of stream!) {
          written += (chunk as Buffer).length;
          await session.writer.write(chunk as Buffer);
        }
      } catch (error) {
        throw new ConnectionBroken(`message stream failed after ${written} bytes: ${String(error)}`);
      }
      // The literal's length was promised; a stream that ended short cannot be repaired on this connection.
      if (written !== expectedSize) throw new ConnectionBroken(`message stream gave ${written} of ${expectedSize} bytes`);
      continue;
    }
    if (typeof piece !== 'string' && piece.length > coalesceLimit) {
      if (pending.length > 0) await session.writer.write(concat(pending));
      pending = [];
      await session.writer.write(piece);
    } else {
      pending.push(piece);
    }
  }
  if (pending.length > 0) await session.writer.write(concat(pending));
}

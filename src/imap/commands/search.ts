// SEARCH and UID SEARCH — RFC 9051 §6.4.4, ESEARCH return options (RFC 4731), MODSEQ
// (RFC 7162 §3.1.5), EMAILID/THREADID (RFC 8474 §5). Selected state.
//
// A first version: keys are evaluated in memory over the records (flags, dates, sizes,
// IDs) and, only when a text key needs them, over the verified message bytes (a
// case-insensitive substring of the raw header or body, not yet MIME-decoded).
// SEARCHRES (SAVE, `$`) is refused.
import { IntegrityError } from '../../errors.js';
import type { MessageRecord } from '../../store/types.js';
import type { CalendarDate, SearchKey, SearchQuery, SearchReturnOption } from '../parser/index.js';
import { ImapReply, no } from '../response.js';
import { formatNumberSet, type Session } from '../session.js';
import { defineCommand, selectedState } from './command.js';

interface Candidate {
  record: MessageRecord;
  sequence: number;
  bytes: Buffer | null;
}

function needsBytes(key: SearchKey): boolean {
  switch (key.key) {
    case 'BCC': case 'BODY': case 'CC': case 'FROM': case 'SUBJECT': case 'TEXT': case 'TO': case 'HEADER':
      return true;
    case 'NOT':
      return needsBytes(key.operand);
    case 'OR':
      return needsBytes(key.left) || needsBytes(key.right);
    case 'AND':
      return key.operands.some(needsBytes);
    default:
      return false;
  }
}

function needsStructure(key: SearchKey): boolean {
  switch (key.key) {
    case 'SENTBEFORE': case 'SENTON': case 'SENTSINCE':
      return true;
    case 'NOT':
      return needsStructure(key.operand);
    case 'OR':
      return needsStructure(key.left) || needsStructure(key.right);
    case 'AND':
      return key.operands.some(needsStructure);
    default:
      return needsBytes(key);
  }
}

function dayNumber(date: CalendarDate): number {
  return Date.UTC(date.year, date.month - 1, date.day) / 86_400_000;
}

function dayOf(time: number): number {
  return Math.floor(time / 86_400_000);
}

function compareDay(kind: 'BEFORE' | 'ON' | 'SINCE', time: number | null, date: CalendarDate): boolean {
  if (time === null) return false;
  const day = dayOf(time);
  const wanted = dayNumber(date);
  return kind === 'BEFORE' ? day < wanted : kind === 'ON' ? day === wanted : day >= wanted;
}

const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 9051 §6.4.4: SENT* compare the Date: header's own calendar day, disregarding time and zone. */
function sentDay(record: MessageRecord): number | null {
  const match = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(record.structure?.envelope.date ?? '');
  const month = match ? monthNames.indexOf(match[2]!.toLowerCase()) : -1;
  if (match && month >= 0) {
    let year = Number(match[3]);
    if (year < 100) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3 obsolete two-digit years
    return Date.UTC(year, month, Number(match[1]));
  }
  return record.structure?.sentDate ?? null;
}

function contains(haystack: Buffer, needle: string): boolean {
  if (needle === '') return true;
  // ASCII case-insensitive on the raw bytes (latin1 keeps one char per byte).
  return haystack.toString('latin1').toLowerCase().includes(Buffer.from(needle, 'utf8').toString('latin1').toLowerCase());
}

function headerValues(candidate: Candidate, name: string): Buffer[] {
  const structure = candidate.record.structure;
  if (!structure || !candidate.bytes) return [];
  return structure.root.headers
    .filter((field) => field.name === name.toLowerCase())
    .map((field) => {
      const text = candidate.bytes!.subarray(field.start, field.end);
      const colon = text.indexOf(0x3a);
      return text.subarray(colon + 1);
    });
}

export function createMatcher(session: Session, uidSets: Map<SearchKey, Set<number>>) {
  const matches = (key: SearchKey, candidate: Candidate): boolean => {
    const { record } = candidate;
    const flags = record.flags;
    switch (key.key) {
      case 'ALL': return true;
      case 'ANSWERED': return flags.includes('\\Answered');
      case 'DELETED': return flags.includes('\\Deleted');
      case 'DRAFT': return flags.includes('\\Draft');
      case 'FLAGGED': return flags.includes('\\Flagged');
      case 'SEEN': return flags.includes('\\Seen');
      case 'UNANSWERED': return !flags.includes('\\Answered');
      case 'UNDELETED': return !flags.includes('\\Deleted');
      case 'UNDRAFT': return !flags.includes('\\Draft');
      case 'UNFLAGGED': return !flags.includes('\\Flagged');
      case 'UNSEEN': return !flags.includes('\\Seen');
      case 'RECENT': return session.view.recent.has(record.uid);
      case 'NEW': return session.view.recent.has(record.uid) && !flags.includes('\\Seen');
      case 'OLD': return !session.view.recent.has(record.uid);
      case 'KEYWORD': return flags.some((flag) => flag.toLowerCase() === key.flag.toLowerCase());
      case 'UNKEYWORD': return !flags.some((flag) => flag.toLowerCase() === key.flag.toLowerCase());
      case 'BEFORE': case 'ON': case 'SINCE':
        return compareDay(key.key, record.internalDate.getTime(), key.date);
      case 'SAVEDBEFORE': return compareDay('BEFORE', record.saveDate.getTime(), key.date);
      case 'SAVEDON': return compareDay('ON', record.saveDate.getTime(), key.date);
      case 'SAVEDSINCE': return compareDay('SINCE', record.saveDate.getTime(), key.date);
      case 'SAVEDATESUPPORTED': return true;
      case 'SENTBEFORE': return compareDay('BEFORE', sentDay(record), key.date);
      case 'SENTON': return compareDay('ON', sentDay(record), key.date);
      case 'SENTSINCE': return compareDay('SINCE', sentDay(record), key.date);
      case 'LARGER': return record.size > key.size;
      case 'SMALLER': return record.size < key.size;
      case 'OLDER': return Date.now() - record.internalDate.getTime() >= key.seconds * 1000;
      case 'YOUNGER': return Date.now() - record.internalDate.getTime() <= key.seconds * 1000;
      case 'UID':
      case 'SEQUENCE':
        return uidSets.get(key)!.has(record.uid);
      case 'MODSEQ': return record.modseq >= key.modseq;
      case 'EMAILID': return record.emailId === key.id;
      case 'THREADID': return record.threadId === key.id;
      case 'NOT': return !matches(key.operand, candidate);
      case 'OR': return matches(key.left, candidate) || matches(key.right, candidate);
      case 'AND': return key.operands.every((operand) => matches(operand, candidate));
      case 'FROM': case 'TO': case 'CC': case 'BCC': case 'SUBJECT':
        return headerValues(candidate, key.key).some((value) => contains(value, key.value));
      case 'HEADER':
        return headerValues(candidate, key.field).some((value) => contains(value, key.value));
      case 'BODY': {
        const structure = record.structure;
        if (!candidate.bytes || !structure) return false;
        return contains(candidate.bytes.subarray(structure.root.bodyStart), key.value);
      }
      case 'TEXT':
        return candidate.bytes ? contains(candidate.bytes, key.value) : false;
    }
  };
  return matches;
}

function collectSets(key: SearchKey, session: Session, out: Map<SearchKey, Set<number>>): void {
  switch (key.key) {
    case 'UID': out.set(key, new Set(session.resolve(key.set, true))); break;
    case 'SEQUENCE': out.set(key, new Set(session.resolve(key.set, false))); break;
    case 'NOT': collectSets(key.operand, session, out); break;
    case 'OR': collectSets(key.left, session, out); collectSets(key.right, session, out); break;
    case 'AND': for (const operand of key.operands) collectSets(operand, session, out); break;
  }
}

/** The records (with structure when `withStructure` or a key needs it) that match the query, in UID order. */
export async function searchRecords(session: Session, query: SearchQuery, options: { withStructure?: boolean } = {}): Promise<MessageRecord[]> {
  const view = session.view;
  if (query.charset !== null && !['UTF-8', 'US-ASCII'].includes(query.charset.toUpperCase())) throw no('unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
  if (query.returnOptions?.includes('SAVE')) throw no('SEARCHRES (SAVE) is not supported yet', 'CANNOT');
  const root: SearchKey = { key: 'AND', operands: query.keys };
  const sets = new Map<SearchKey, Set<number>>();
  collectSets(root, session, sets);
  const matches = createMatcher(session, sets);
  const withBytes = needsBytes(root);
  const withStructure = options.withStructure === true || needsStructure(root);
  if (query.keys.some((key) => key.key === 'MODSEQ')) await session.enableCondstore();
  const found: MessageRecord[] = [];
  const uids = view.uids.slice();
  for (let start = 0; start < uids.length; start += 500) {
    const batch = uids.slice(start, start + 500);
    const records = await session.mail.fetch(view.id, { uids: [[batch[0]!, batch.at(-1)!]], withStructure });
    for (const record of records) {
      const sequence = session.sequenceOf(record.uid);
      if (sequence === 0) continue;
      let bytes: Buffer | null = null;
      if (withBytes) {
        try {
          bytes = await session.mail.readMessage(view.id, record.uid);
        } catch (error) {
          if (!(error instanceof IntegrityError)) throw error;
          continue; // an unreadable message matches no text key
        }
      }
      if (matches(root, { record, sequence, bytes })) found.push(record);
    }
  }
  return found;
}

export default defineCommand({
  name: 'SEARCH',
  states: selectedState,
  async handler(session, command) {
    const query = command.query;
    const found = await searchRecords(session, query);
    const numbers = found.map((record) => (command.uid ? record.uid : session.sequenceOf(record.uid)));
    const modseq = session.condstore && query.keys.some((key) => key.key === 'MODSEQ') && found.length > 0 ? Math.max(...found.map((record) => record.modseq)) : null;
    if (query.returnOptions === null) {
      await session.writer.untagged(`SEARCH${numbers.map((number) => ' ' + number).join('')}${modseq !== null ? ` (MODSEQ ${modseq})` : ''}`);
    } else {
      await session.writer.untagged(esearch(command.tag, command.uid, query.returnOptions, numbers, modseq));
    }
    return new ImapReply('OK', `${command.uid ? 'UID SEARCH' : 'SEARCH'} completed`);
  },
});

/** RFC 4731 §3.1 ESEARCH response; `RETURN ()` means ALL. */
export function esearch(tag: string, uid: boolean, returnOptions: SearchReturnOption[], numbers: number[], modseq: number | null = null): string {
  const options = returnOptions.length === 0 ? ['ALL'] : returnOptions;
  const parts = [`(TAG "${tag}")`];
  if (uid) parts.push('UID');
  if (numbers.length > 0) {
    if (options.includes('MIN')) parts.push(`MIN ${Math.min(...numbers)}`);
    if (options.includes('MAX')) parts.push(`MAX ${Math.max(...numbers)}`);
    if (options.includes('ALL')) parts.push(`ALL ${formatNumberSet(numbers.slice().sort((a, b) => a - b))}`);
  }
  if (options.includes('COUNT')) parts.push(`COUNT ${numbers.length}`);
  if (modseq !== null) parts.push(`MODSEQ ${modseq}`);
  return `ESEARCH ${parts.join(' ')}`;
}

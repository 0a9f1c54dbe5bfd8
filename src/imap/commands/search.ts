// SEARCH and UID SEARCH — RFC 9051 §6.4.4, ESEARCH return options (RFC 4731), MODSEQ
// (RFC 7162 §3.1.5), EMAILID/THREADID (RFC 8474 §5). Selected state.
//
// Keys are evaluated in memory over the records (flags, dates, sizes, IDs) and, only
// when a text key needs them, over the verified message bytes: headers decoded
// (RFC 2047), bodies decoded (base64/QP, charset), compared as Unicode without case
// (src/mime/search-text.ts).
// SEARCHRES (RFC 5182): RETURN (SAVE) keeps the result for `$` (session.ts resolves it).
import { IntegrityError } from '../../errors.js';
import { addressText, bodyTexts, foldCase, headerText as searchHeaderText, headerValues as searchHeaderValues } from '../../mime/search-text.js';
import type { MessageRecord } from '../../store/types.js';
import type { CalendarDate, SearchKey, SearchQuery, SearchReturnOption } from '../parser/index.js';
import { ImapReply, no } from '../response.js';
import { formatNumberSet, type Session } from '../session.js';
import { defineCommand, selectedState } from './command.js';

interface Candidate {
  record: MessageRecord;
  sequence: number;
  bytes: Buffer | null;
  /** The decoded, case-folded body text, made on first use. */
  body?: string;
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

/** RFC 9051 §6.4.4: a case-insensitive substring; the empty string matches any text that is there. */
function contains(haystack: string, needle: string): boolean {
  return needle === '' || foldCase(haystack).includes(foldCase(needle));
}

function headerValues(candidate: Candidate, name: string): string[] {
  const structure = candidate.record.structure;
  if (!structure || !candidate.bytes) return [];
  return searchHeaderValues(candidate.bytes, structure.root, name);
}

/** FROM/TO/CC/BCC: the decoded header, and the parsed addresses as `Name <mailbox@host>`. */
function addressValues(candidate: Candidate, key: 'FROM' | 'TO' | 'CC' | 'BCC'): string[] {
  const values = headerValues(candidate, key);
  const envelope = candidate.record.structure?.envelope;
  if (values.length > 0 && envelope) values.push(addressText(envelope[key.toLowerCase() as 'from' | 'to' | 'cc' | 'bcc']));
  return values;
}

/** The decoded body text, case-folded once per message however many keys look at it. */
function foldedBody(candidate: Candidate): string {
  const structure = candidate.record.structure;
  if (!candidate.bytes || !structure) return '';
  candidate.body ??= foldCase(bodyTexts(candidate.bytes, structure).join('\r\n'));
  return candidate.body;
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
      case 'FROM': case 'TO': case 'CC': case 'BCC':
        return addressValues(candidate, key.key).some((value) => contains(value, key.value));
      case 'SUBJECT':
        return headerValues(candidate, key.key).some((value) => contains(value, key.value));
      case 'HEADER':
        return headerValues(candidate, key.field).some((value) => contains(value, key.value));
      case 'BODY':
        return key.value === '' || foldedBody(candidate).includes(foldCase(key.value));
      case 'TEXT': {
        // RFC 9051 §6.4.4: TEXT is the header or the body.
        const structure = record.structure;
        if (!candidate.bytes || !structure) return false;
        return contains(searchHeaderText(candidate.bytes, structure.root), key.value) || foldedBody(candidate).includes(foldCase(key.value));
      }
    }
  };
  return matches;
}

function collectSets(key: SearchKey, session: Session, out: Map<SearchKey, Set<number>>): void {
  switch (key.key) {
    case 'UID': out.set(key, new Set(session.resolve(key.set, true))); break;
    case 'SEQUENCE': out.set(key, new Set(session.resolve(key.set, false, { lenient: true }))); break;
    case 'NOT': collectSets(key.operand, session, out); break;
    case 'OR': collectSets(key.left, session, out); collectSets(key.right, session, out); break;
    case 'AND': for (const operand of key.operands) collectSets(operand, session, out); break;
  }
}

function hasModseqKey(key: SearchKey): boolean {
  switch (key.key) {
    case 'MODSEQ': return true;
    case 'NOT': return hasModseqKey(key.operand);
    case 'OR': return hasModseqKey(key.left) || hasModseqKey(key.right);
    case 'AND': return key.operands.some(hasModseqKey);
    default: return false;
  }
}

/** The records (with structure when `withStructure` or a key needs it) that match the query, in UID order. */
export async function searchRecords(session: Session, query: SearchQuery, options: { withStructure?: boolean } = {}): Promise<MessageRecord[]> {
  const view = session.view;
  if (query.charset !== null && !['UTF-8', 'US-ASCII'].includes(query.charset.toUpperCase())) throw no('unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
  const root: SearchKey = { key: 'AND', operands: query.keys };
  const sets = new Map<SearchKey, Set<number>>();
  collectSets(root, session, sets);
  const matches = createMatcher(session, sets);
  const withBytes = needsBytes(root);
  const withStructure = options.withStructure === true || needsStructure(root);
  if (hasModseqKey(root)) await session.enableCondstore();
  const found: MessageRecord[] = [];
  const uids = view.uids.slice();
  // Messages that could not be looked at (a record that failed its checksum, bytes that
  // failed verification) match nothing, and the client is told so, not left to guess.
  let unsearchable = 0;
  for (let start = 0; start < uids.length; start += 500) {
    const batch = uids.slice(start, start + 500);
    const records = await session.mail.fetch(view.id, { uids: [[batch[0]!, batch.at(-1)!]], withStructure, onWithheld: () => unsearchable++ });
    for (const record of records) {
      const sequence = session.sequenceOf(record.uid);
      if (sequence === 0) continue;
      let bytes: Buffer | null = null;
      if (withBytes) {
        try {
          bytes = await session.mail.readMessage(view.id, record.uid);
        } catch (error) {
          if (!(error instanceof IntegrityError)) throw error;
          unsearchable++;
          continue; // an unreadable message matches no text key
        }
      }
      if (matches(root, { record, sequence, bytes })) found.push(record);
    }
  }
  // RFC 9051 §7.1.2: an untagged NO is a warning; the command still completes.
  if (unsearchable > 0) await session.writer.untagged(`NO [UNAVAILABLE] ${unsearchable} message(s) could not be searched: the stored record or copy failed verification`);
  return found;
}

/** Only MIN and/or MAX asked for (SAVE aside): RFC 5182 §2.4 and RFC 7162 §3.1.5 then look at those messages only. */
function onlyMinMax(options: readonly SearchReturnOption[]): boolean {
  const shown = options.filter((option) => option !== 'SAVE');
  return shown.length > 0 && shown.every((option) => option === 'MIN' || option === 'MAX');
}

/** The records MIN and MAX name: the first and last of the result in its order (UID order, or sort order for SORT). */
function minMaxRecords(options: readonly SearchReturnOption[], ordered: readonly MessageRecord[]): MessageRecord[] {
  const picked: MessageRecord[] = [];
  if (ordered.length === 0) return picked;
  if (options.includes('MIN')) picked.push(ordered[0]!);
  if (options.includes('MAX')) picked.push(ordered.at(-1)!);
  return picked;
}

/**
 * RFC 5182 SEARCHRES: RETURN (SAVE) keeps the result for `$` — only the MIN/MAX
 * messages when those are the only other options (§2.4), else all of it.
 */
export function saveResult(session: Session, options: readonly SearchReturnOption[] | null, ordered: readonly MessageRecord[]): void {
  if (!options?.includes('SAVE')) return;
  const kept = onlyMinMax(options) ? minMaxRecords(options, ordered) : ordered;
  session.view.savedResult = [...new Set(kept.map((record) => record.uid))].sort((a, b) => a - b);
}

/** RFC 5182 §2.1: a SEARCH with SAVE that fails leaves `$` empty. */
export function forgetResult(session: Session, options: readonly SearchReturnOption[] | null): void {
  if (options?.includes('SAVE') && session.selected) session.selected.savedResult = [];
}

/** RFC 7162 §3.1.5: the highest MODSEQ of the messages the response names (the MIN/MAX ones when only those are asked). */
export function resultModseq(options: readonly SearchReturnOption[] | null, ordered: readonly MessageRecord[]): number | null {
  const named = options !== null && onlyMinMax(options) ? minMaxRecords(options, ordered) : ordered;
  let highest: number | null = null;
  for (const record of named) highest = highest === null ? record.modseq : Math.max(highest, record.modseq);
  return highest;
}

export default defineCommand({
  name: 'SEARCH',
  states: selectedState,
  async handler(session, command) {
    const query = command.query;
    let found: MessageRecord[];
    try {
      found = await searchRecords(session, query);
    } catch (error) {
      forgetResult(session, query.returnOptions);
      throw error;
    }
    const numbers = found.map((record) => (command.uid ? record.uid : session.sequenceOf(record.uid)));
    const modseq = session.condstore && query.keys.some(hasModseqKey) ? resultModseq(query.returnOptions, found) : null;
    if (query.returnOptions === null) {
      await session.writer.untagged(`SEARCH${numbers.map((number) => ' ' + number).join('')}${modseq !== null ? ` (MODSEQ ${modseq})` : ''}`);
    } else {
      saveResult(session, query.returnOptions, found);
      const response = esearch(command.tag, command.uid, query.returnOptions, numbers, modseq);
      if (response !== null) await session.writer.untagged(response);
    }
    return new ImapReply('OK', `${command.uid ? 'UID SEARCH' : 'SEARCH'} completed`);
  },
});

/** Numbers in the order given, ascending runs as ranges: `1:3,7,5` (RFC 5267 §3.1 ALL keeps the sort order). */
function orderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let from = numbers[0]!;
  let to = from;
  for (const number of numbers.slice(1)) {
    if (number === to + 1) {
      to = number;
      continue;
    }
    parts.push(from === to ? String(from) : `${from}:${to}`);
    from = to = number;
  }
  parts.push(from === to ? String(from) : `${from}:${to}`);
  return parts.join(',');
}

/**
 * RFC 4731 §3.1 ESEARCH response; `RETURN ()` means ALL. `numbers` is the result in
 * its order: ascending for SEARCH, sort order for SORT (`sorted`: MIN and MAX are then
 * the first and last, RFC 5267 §3.1). Null when SAVE is the only option (RFC 5182 §2.1).
 */
export function esearch(tag: string, uid: boolean, returnOptions: SearchReturnOption[], numbers: number[], modseq: number | null = null, sorted = false): string | null {
  const shown = returnOptions.filter((option) => option !== 'SAVE');
  if (shown.length === 0 && returnOptions.length > 0) return null;
  const options = shown.length === 0 ? ['ALL'] : shown;
  const parts = [`(TAG "${tag}")`];
  if (uid) parts.push('UID');
  if (numbers.length > 0) {
    const lowest = sorted ? numbers[0]! : numbers.reduce((a, b) => Math.min(a, b));
    const highest = sorted ? numbers.at(-1)! : numbers.reduce((a, b) => Math.max(a, b));
    if (options.includes('MIN')) parts.push(`MIN ${lowest}`);
    if (options.includes('MAX')) parts.push(`MAX ${highest}`);
    if (options.includes('ALL')) parts.push(`ALL ${sorted ? orderedSet(numbers) : formatNumberSet(numbers.slice().sort((a, b) => a - b))}`);
  }
  if (options.includes('COUNT')) parts.push(`COUNT ${numbers.length}`);
  if (modseq !== null) parts.push(`MODSEQ ${modseq}`);
  return `ESEARCH ${parts.join(' ')}`;
}

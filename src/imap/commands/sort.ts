// SORT and UID SORT — RFC 5256 §3, DISPLAYFROM/DISPLAYTO (RFC 5957), ESORT return
// options (RFC 5267 §3). Selected state. Ties go to the lower sequence number (§3).
import type { Address } from '../../mime/structure.js';
import type { MessageRecord } from '../../store/types.js';
import type { SortCriterion } from '../parser/index.js';
import { ImapReply } from '../response.js';
import { defineCommand, selectedState } from './command.js';
import { esearch, searchRecords } from './search.js';

/** RFC 5256 §2.1 base subject, simplified: leading Re:/Fw:/Fwd: and [tags], trailing (fwd), folded space. */
export function baseSubject(subject: string): string {
  let text = subject.replace(/\s+/g, ' ').trim();
  for (;;) {
    const before = text;
    text = text.replace(/\s*\(fwd\)$/i, '').trim();
    text = text.replace(/^(\[[^\[\]]*\]\s*)*(re|fwd?)\s*(\[[^\[\]]*\])?\s*:\s*/i, '').trim();
    text = text.replace(/^\[fwd:\s*(.*)\]$/i, '$1').trim();
    if (text === before) break;
  }
  return text.toUpperCase();
}

function firstMailbox(list: Address[] | null): string {
  const address = list?.find((entry) => entry.host !== null);
  return (address?.mailbox ?? '').toUpperCase();
}

function displayName(list: Address[] | null): string {
  const address = list?.find((entry) => entry.host !== null);
  if (!address) return '';
  return (address.name ?? `${address.mailbox ?? ''}@${address.host ?? ''}`).toUpperCase();
}

function sortValue(record: MessageRecord, criterion: SortCriterion): string | number {
  const structure = record.structure!;
  const envelope = structure.envelope;
  switch (criterion.key) {
    case 'ARRIVAL': return record.internalDate.getTime();
    case 'DATE': return structure.sentDate ?? record.internalDate.getTime();
    case 'SIZE': return record.size;
    case 'SUBJECT': return baseSubject(structure.subject);
    case 'FROM': return firstMailbox(envelope.from);
    case 'TO': return firstMailbox(envelope.to);
    case 'CC': return firstMailbox(envelope.cc);
    case 'DISPLAYFROM': return displayName(envelope.from);
    case 'DISPLAYTO': return displayName(envelope.to);
  }
}

export default defineCommand({
  name: 'SORT',
  states: selectedState,
  async handler(session, command) {
    const found = await searchRecords(session, command.query, { withStructure: true });
    const keyed = found.map((record) => ({ record, sequence: session.sequenceOf(record.uid), values: command.criteria.map((criterion) => sortValue(record, criterion)) }));
    keyed.sort((a, b) => {
      for (let index = 0; index < command.criteria.length; index++) {
        const left = a.values[index]!;
        const right = b.values[index]!;
        if (left === right) continue;
        const order = left < right ? -1 : 1;
        return command.criteria[index]!.reverse ? -order : order;
      }
      return a.sequence - b.sequence;
    });
    const numbers = keyed.map((entry) => (command.uid ? entry.record.uid : entry.sequence));
    if (command.returnOptions === null) await session.writer.untagged(`SORT${numbers.map((number) => ' ' + number).join('')}`);
    else await session.writer.untagged(esearch(command.tag, command.uid, command.returnOptions, numbers));
    return new ImapReply('OK', `${command.uid ? 'UID SORT' : 'SORT'} completed`);
  },
});

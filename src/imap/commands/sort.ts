// SORT and UID SORT — RFC 5256 §3, DISPLAYFROM/DISPLAYTO (RFC 5957), ESORT return
// options (RFC 5267 §3.1). Selected state. Ties go to the lower sequence number
// (RFC 5256 §3), which REVERSE does not reverse.
import type { Address } from '../../mime/structure.js';
import { decodeEncodedWords } from '../../mime/text.js';
import type { MessageRecord } from '../../store/types.js';
import { baseSubject } from '../base-subject.js';
import type { SortCriterion } from '../parser/index.js';
import { ImapReply } from '../response.js';
import { defineCommand, selectedState } from './command.js';
import { esearch, forgetResult, saveResult, searchRecords } from './search.js';

/** i;ascii-casemap (RFC 4790 §9.2), the collation RFC 5256 §3 names for strings. */
function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/** RFC 5256 §3 FROM/TO/CC: the addr-mailbox of the first address; for a group, its name. */
function firstMailbox(list: Address[] | null): string {
  return asciiUpper(list?.[0]?.mailbox ?? '');
}

/**
 * RFC 5957 §3 DISPLAYFROM/DISPLAYTO: the first address's decoded display name, or
 * its addr-spec when it has none; a group counts by its name.
 */
function displayName(list: Address[] | null): string {
  const address = list?.[0];
  if (!address) return '';
  if (address.host === null) return (address.mailbox ?? '').toUpperCase();
  const name = address.name === null ? '' : decodeEncodedWords(address.name).trim();
  if (name !== '') return name.toUpperCase();
  return `${address.mailbox ?? ''}@${address.host}`.toUpperCase();
}

function sortValue(record: MessageRecord, criterion: SortCriterion): string | number {
  const structure = record.structure!;
  const envelope = structure.envelope;
  switch (criterion.key) {
    case 'ARRIVAL': return record.internalDate.getTime();
    // RFC 5256 §2.2: the sent date, or the internal date when Date: is missing or unparseable.
    case 'DATE': return structure.sentDate ?? record.internalDate.getTime();
    case 'SIZE': return record.size;
    case 'SUBJECT': return baseSubject(structure.subject).base;
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
    let found: MessageRecord[];
    try {
      found = await searchRecords(session, command.query, { withStructure: true });
    } catch (error) {
      forgetResult(session, command.returnOptions);
      throw error;
    }
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
    else {
      // RFC 5267 §3.1: MIN and MAX are the first and last in sort order, ALL keeps the sort order.
      saveResult(session, command.returnOptions, keyed.map((entry) => entry.record));
      const response = esearch(command.tag, command.uid, command.returnOptions, numbers, null, true);
      if (response !== null) await session.writer.untagged(response);
    }
    return new ImapReply('OK', `${command.uid ? 'UID SORT' : 'SORT'} completed`);
  },
});

// THREAD and UID THREAD — RFC 5256 §3: ORDEREDSUBJECT and REFERENCES (the algorithms
// are in ../threading.ts). Selected state.
import { ImapReply, no } from '../response.js';
import { threadByOrderedSubject, threadByReferences, type ThreadMessage } from '../threading.js';
import { defineCommand, selectedState } from './command.js';
import { searchRecords } from './search.js';

export default defineCommand({
  name: 'THREAD',
  states: selectedState,
  async handler(session, command) {
    const algorithm = command.algorithm.toUpperCase();
    if (algorithm !== 'ORDEREDSUBJECT' && algorithm !== 'REFERENCES') throw no(`unsupported threading algorithm ${algorithm}`, 'CANNOT');
    const found = await searchRecords(session, command.query, { withStructure: true });
    const messages: ThreadMessage[] = found.map((record) => {
      const structure = record.structure;
      const order = session.sequenceOf(record.uid);
      return {
        number: command.uid ? record.uid : order,
        order,
        // RFC 5256 §2.2: the sent date, or the internal date when Date: is missing or unparseable.
        date: structure?.sentDate ?? record.internalDate.getTime(),
        messageId: structure?.messageId ?? null,
        references: structure?.references ?? [],
        inReplyTo: structure?.inReplyTo ?? [],
        subject: structure?.subject ?? '',
      };
    });
    const threads = algorithm === 'REFERENCES' ? threadByReferences(messages) : threadByOrderedSubject(messages);
    await session.writer.untagged(`THREAD${threads ? ' ' + threads : ''}`);
    return new ImapReply('OK', `${command.uid ? 'UID THREAD' : 'THREAD'} completed`);
  },
});

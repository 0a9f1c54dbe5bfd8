// APPEND — RFC 9051 §6.3.12 with UIDPLUS APPENDUID (RFC 4315 §3), MULTIAPPEND (RFC 3502)
// and APPENDLIMIT (RFC 7889). The OK is sent only once the store says the message is
// durable (DESIGN.md invariant 1).
import { NotFound } from '../../errors.js';
import type { AppendResult } from '../../store/types.js';
import { ImapReply, no } from '../response.js';
import { formatNumberSet } from '../session.js';
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'APPEND',
  states: authenticatedStates,
  async handler(session, command) {
    const account = session.mail;
    // RFC 9051 §6.3.12: a missing mailbox gets NO [TRYCREATE].
    const mailbox = await account.getMailbox(command.mailbox).catch((error) => {
      throw error instanceof NotFound ? no('no such mailbox', 'TRYCREATE') : error;
    });
    const results: AppendResult[] = [];
    // MULTIAPPEND is not atomic here: the store has no multi-message transaction, so
    // messages appended before a failure stay (noted in the report).
    for (const message of command.messages) {
      const source = message.content.kind === 'buffered' ? message.content.bytes : session.connection.literal(message.content.index);
      if (source === null) throw no('message literal was lost');
      const flags = message.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
      results.push(
        await account.append(mailbox.name, source, {
          flags,
          ...(message.date ? { internalDate: message.date } : {}),
          maxSize: session.limits.appendLimit,
        }),
      );
    }
    const uidValidity = results[0]!.uidValidity;
    return new ImapReply('OK', 'APPEND completed', `APPENDUID ${uidValidity} ${formatNumberSet(results.map((result) => result.uid))}`);
  },
});

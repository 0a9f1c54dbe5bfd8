// APPEND — RFC 9051 §6.3.12 with UIDPLUS APPENDUID (RFC 4315 §3), MULTIAPPEND (RFC 3502)
// and APPENDLIMIT (RFC 7889). The OK is sent only once the store says the message is
// durable (DESIGN.md invariant 1).
import { NotFound } from '../../errors.js';
import { encodeBinaryParts } from '../../mime/binary-parts.js';
import { parseStructure } from '../../mime/structure.js';
import type { AppendResult } from '../../store/types.js';
import { ImapReply, no } from '../response.js';
import { formatNumberSet, toNumberSet, type Session } from '../session.js';
import { authenticatedStates, defineCommand } from './command.js';

/**
 * A literal8 message (RFC 3516 §4.4) may hold NUL in binary parts, which BODY[] could
 * never send; those parts are stored base64-encoded instead (src/mime/binary-parts.ts).
 */
async function withoutBinaryParts(source: Buffer | AsyncIterable<Buffer>): Promise<Buffer> {
  let bytes: Buffer;
  if (Buffer.isBuffer(source)) bytes = source;
  else {
    // Bounded by APPENDLIMIT: the command reader refused larger literals.
    const chunks: Buffer[] = [];
    for await (const chunk of source) chunks.push(chunk);
    bytes = Buffer.concat(chunks);
  }
  return encodeBinaryParts(bytes, await parseStructure(bytes)) ?? bytes;
}

/** Expunges messages this APPEND stored before a later one failed. */
async function withdraw(session: Session, mailboxId: string, uids: number[]): Promise<void> {
  const set = toNumberSet(uids);
  await session.mail.updateFlags(mailboxId, set, { mode: 'add', flags: ['\\Deleted'] });
  await session.mail.expunge(mailboxId, set);
}

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
    try {
      for (const message of command.messages) {
        let source = message.content.kind === 'buffered' ? message.content.bytes : session.connection.literal(message.content.index);
        if (source === null) throw no('message literal was lost');
        if (message.content.binary) source = await withoutBinaryParts(source);
        const flags = message.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
        results.push(
          await account.append(mailbox.name, source, {
            flags,
            ...(message.date ? { internalDate: message.date } : {}),
            maxSize: session.limits.appendLimit,
          }),
        );
      }
    } catch (error) {
      // RFC 3502 §6.3.11: MULTIAPPEND is all or none. The store appends one message at a
      // time, so the ones already stored are taken out again before the NO goes out.
      if (results.length > 0) {
        await withdraw(session, mailbox.id, results.map((result) => result.uid)).catch((failure) =>
          session.log.error('imap.multiappend_withdraw_failed', { mailbox: mailbox.name, error: String(failure) }),
        );
      }
      throw error;
    }
    const uidValidity = results[0]!.uidValidity;
    return new ImapReply('OK', 'APPEND completed', `APPENDUID ${uidValidity} ${formatNumberSet(results.map((result) => result.uid))}`);
  },
});

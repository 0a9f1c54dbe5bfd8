// STATUS — RFC 9051 §6.3.11, with SIZE (RFC 8438), HIGHESTMODSEQ (RFC 7162 §3.1.10),
// MAILBOXID (RFC 8474 §4.2) and APPENDLIMIT (RFC 7889). Also used by LIST-STATUS (RFC 5819).
import type { MailboxInfo } from '../../store/types.js';
import type { StatusItem } from '../parser/index.js';
import { concat } from '../response.js';
import { recentClaim, type Session } from '../session.js';
import { authenticatedStates, defineCommand } from './command.js';

export function statusResponse(session: Session, info: MailboxInfo, items: StatusItem[]): Buffer {
  const values: string[] = [];
  for (const item of items) {
    switch (item) {
      case 'MESSAGES': values.push(`MESSAGES ${info.messages}`); break;
      case 'UIDNEXT': values.push(`UIDNEXT ${info.uidNext}`); break;
      case 'UIDVALIDITY': values.push(`UIDVALIDITY ${info.uidValidity}`); break;
      case 'UNSEEN': values.push(`UNSEEN ${info.unseen}`); break;
      case 'DELETED': values.push(`DELETED ${info.deleted}`); break;
      case 'SIZE': values.push(`SIZE ${info.size}`); break;
      // Approximate: UIDs above the last \Recent claim, capped by the message count.
      case 'RECENT': values.push(`RECENT ${Math.max(0, Math.min(info.messages, info.uidNext - 1 - recentClaim(session.store, info.id)))}`); break;
      case 'HIGHESTMODSEQ': session.condstore = true; values.push(`HIGHESTMODSEQ ${info.highestModseq}`); break;
      case 'MAILBOXID': values.push(`MAILBOXID (${info.id})`); break;
      case 'APPENDLIMIT': values.push(`APPENDLIMIT ${session.limits.appendLimit}`); break;
      // DELETED-STORAGE (RFC 9208 §6.4) needs a per-mailbox sum the store does not keep yet.
      case 'DELETED-STORAGE': break;
    }
  }
  return concat(['STATUS ', session.mailboxName(info.name), ` (${values.join(' ')})`]);
}

export default defineCommand({
  name: 'STATUS',
  states: authenticatedStates,
  async handler(session, command) {
    const info = await session.mail.getMailbox(command.mailbox);
    await session.writer.untagged(statusResponse(session, info, command.items));
  },
});

// RENAME — RFC 9051 §6.3.6 (INBOX: its messages move, INBOX stays, handled by the store).
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'RENAME',
  states: authenticatedStates,
  async handler(session, command) {
    await session.mail.renameMailbox(command.from, command.to);
    if (session.selected && session.selected.name === command.from) {
      session.selected.name = (await session.mail.getMailboxById(session.selected.id).catch(() => null))?.name ?? command.to;
    }
  },
});

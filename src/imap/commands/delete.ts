// DELETE — RFC 9051 §6.3.5. Deleting INBOX is refused; the store keeps the messages
// recoverable for the retention window.
import { no } from '../response.js';
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'DELETE',
  states: authenticatedStates,
  async handler(session, command) {
    if (command.mailbox === 'INBOX') throw no('INBOX cannot be deleted', 'CANNOT');
    const info = await session.mail.getMailbox(command.mailbox);
    await session.mail.deleteMailbox(command.mailbox);
    // RFC 9051 §6.3.5: deleting the selected mailbox leaves the selected state.
    if (session.selected?.id === info.id) session.deselect();
  },
});

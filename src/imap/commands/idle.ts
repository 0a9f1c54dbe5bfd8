// IDLE — RFC 9051 §6.3.13 (RFC 2177). Authenticated or selected. While idling, changes
// to the selected mailbox are sent as they commit (the store's watch), EXPUNGE included.
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'IDLE',
  states: authenticatedStates,
  async handler(session) {
    session.idling = true;
    try {
      await session.connection.idle();
    } finally {
      session.idling = false;
    }
  },
});

// LOGOUT — RFC 9051 §6.1.3: BYE, then the tagged OK, then the server closes.
import { ImapReply } from '../response.js';
import { anyState, defineCommand } from './command.js';

export default defineCommand({
  name: 'LOGOUT',
  states: anyState,
  async handler(session) {
    await session.writer.untagged('BYE Postkeep logging out');
    session.close();
    return new ImapReply('OK', 'LOGOUT completed');
  },
});

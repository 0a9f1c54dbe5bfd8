// ID — RFC 2971. Any state. The client's fields are ignored; the server names itself.
import { anyState, defineCommand } from './command.js';

export default defineCommand({
  name: 'ID',
  states: anyState,
  async handler(session) {
    await session.writer.untagged('ID ("name" "Postkeep")');
  },
});

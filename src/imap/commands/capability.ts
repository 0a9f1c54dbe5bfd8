// CAPABILITY — RFC 9051 §6.1.1. Any state.
import { anyState, defineCommand } from './command.js';

export default defineCommand({
  name: 'CAPABILITY',
  states: anyState,
  async handler(session) {
    await session.writer.untagged(`CAPABILITY ${session.capabilities().join(' ')}`);
  },
});

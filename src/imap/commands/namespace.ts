// NAMESPACE — RFC 9051 §6.3.10 (RFC 2342): one personal namespace, "/" separator.
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'NAMESPACE',
  states: authenticatedStates,
  async handler(session) {
    await session.writer.untagged('NAMESPACE (("" "/")) NIL NIL');
  },
});

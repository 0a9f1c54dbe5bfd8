// NOOP — RFC 9051 §6.1.2. Any state; its point is the updates sent before the OK (§5.2).
import { anyState, defineCommand } from './command.js';

export default defineCommand({
  name: 'NOOP',
  states: anyState,
  async handler() {},
});

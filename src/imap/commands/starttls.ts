// STARTTLS — RFC 9051 §6.2.1. Not authenticated, cleartext only. The TLS handshake
// starts after the tagged OK; anything the client pipelined before it is discarded.
import { bad } from '../response.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'STARTTLS',
  states: ['not-authenticated'],
  async handler(session) {
    if (session.connection.secure) throw bad('TLS is already active');
    // The connection writes the OK and then upgrades (see connection.ts).
    await session.connection.startTls();
  },
});

// ENABLE — RFC 5161 and RFC 9051 §6.3.1. Authenticated state only (not selected in RFC 9051).
import { authenticatedStates, defineCommand } from './command.js';

const supported = new Set(['IMAP4REV2', 'CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT']);

export default defineCommand({
  name: 'ENABLE',
  states: authenticatedStates,
  async handler(session, command) {
    const turnedOn: string[] = [];
    for (const capability of command.capabilities) {
      if (!supported.has(capability) || session.enabled.has(capability)) continue;
      session.enabled.add(capability);
      // RFC 7162 §3.2.3: enabling QRESYNC enables CONDSTORE too.
      if (capability === 'CONDSTORE' || capability === 'QRESYNC') session.condstore = true;
      turnedOn.push(capability === 'IMAP4REV2' ? 'IMAP4rev2' : capability);
    }
    // RFC 5161 §3.1: the ENABLED response lists only what this command turned on.
    await session.writer.untagged(`ENABLED${turnedOn.map((name) => ' ' + name).join('')}`);
  },
});

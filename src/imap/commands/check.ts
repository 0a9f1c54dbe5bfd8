// CHECK — RFC 3501 §6.4.1 (removed in RFC 9051, kept for IMAP4rev1 clients): every
// acknowledged change is already durable (DESIGN.md invariant 1), so it is a NOOP.
import { defineCommand, selectedState } from './command.js';

export default defineCommand({
  name: 'CHECK',
  states: selectedState,
  async handler() {},
});

// CLOSE — RFC 9051 §6.4.1: silently expunges \Deleted messages (not when read-only),
// then leaves the selected state. UNSELECT — RFC 9051 §6.4.2 (RFC 3691): no expunge.
import { defineCommand, selectedState, type CommandSpec } from './command.js';

export const close: CommandSpec<'CLOSE'> = defineCommand({
  name: 'CLOSE',
  states: selectedState,
  async handler(session) {
    const view = session.view;
    if (!view.readOnly) await session.mail.expunge(view.id);
    session.deselect();
  },
});

export const unselect: CommandSpec<'UNSELECT'> = defineCommand({
  name: 'UNSELECT',
  states: selectedState,
  async handler(session) {
    session.deselect();
  },
});

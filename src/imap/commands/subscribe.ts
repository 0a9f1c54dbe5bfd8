// SUBSCRIBE and UNSUBSCRIBE — RFC 9051 §6.3.7 and §6.3.8. The store keeps names even for
// mailboxes that do not exist (RFC 9051 allows subscribing to those).
import { authenticatedStates, defineCommand, type CommandSpec } from './command.js';

export const subscribe: CommandSpec<'SUBSCRIBE'> = defineCommand({
  name: 'SUBSCRIBE',
  states: authenticatedStates,
  async handler(session, command) {
    await session.mail.getMailbox(command.mailbox);
    await session.mail.setSubscribed(command.mailbox, true);
  },
});

export const unsubscribe: CommandSpec<'UNSUBSCRIBE'> = defineCommand({
  name: 'UNSUBSCRIBE',
  states: authenticatedStates,
  async handler(session, command) {
    await session.mail.setSubscribed(command.mailbox, false);
  },
});

// CREATE — RFC 9051 §6.3.4; CREATE-SPECIAL-USE (RFC 6154 §3).
import { no } from '../response.js';
import { authenticatedStates, defineCommand } from './command.js';

export default defineCommand({
  name: 'CREATE',
  states: authenticatedStates,
  async handler(session, command) {
    // RFC 9051 §6.3.4: a trailing separator means the name is meant to hold children.
    const name = command.mailbox.endsWith('/') ? command.mailbox.slice(0, -1) : command.mailbox;
    if (name === 'INBOX') throw no('INBOX already exists', 'ALREADYEXISTS');
    if (command.specialUse.length > 1) throw no('one special-use attribute per mailbox', 'USEATTR');
    await session.mail.createMailbox(name, command.specialUse[0] ? { specialUse: command.specialUse[0] } : {});
  },
});

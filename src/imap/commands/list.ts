// LIST — RFC 9051 §6.3.9 with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154),
// CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819); LSUB — RFC 3501 §6.3.9.
import type { MailboxInfo } from '../../store/types.js';
import { concat } from '../response.js';
import type { Session } from '../session.js';
import { authenticatedStates, defineCommand, type CommandSpec } from './command.js';
import { statusResponse } from './status.js';

/** RFC 9051 §6.3.9: `*` matches anything, `%` anything but the separator; INBOX in any case. */
export function patternMatcher(reference: string, pattern: string): (name: string) => boolean {
  const joined = reference + pattern;
  const full = joined.slice(0, 5).toUpperCase() === 'INBOX' ? 'INBOX' + joined.slice(5) : joined;
  const source = full.replace(/[.*+?^${}()|[\]\\%]/g, (c) => (c === '*' ? '.*' : c === '%' ? '[^/]*' : '\\' + c));
  const expression = new RegExp(`^${source}$`, 's');
  return (name) => expression.test(name);
}

function listLine(session: Session, command: string, attributes: string[], name: string): Buffer {
  return concat([`${command} (${attributes.join(' ')}) "/" `, session.mailboxName(name)]);
}

export const list: CommandSpec<'LIST'> = defineCommand({
  name: 'LIST',
  states: authenticatedStates,
  async handler(session, command) {
    const writer = session.writer;
    if (command.patterns.length === 1 && command.patterns[0] === '' && !command.extended) {
      // RFC 9051 §6.3.9: an empty pattern asks for the separator and the root.
      await writer.untagged('LIST (\\Noselect) "/" ""');
      return;
    }
    const matchers = command.patterns.map((pattern) => patternMatcher(command.reference, pattern));
    const matches = (name: string) => matchers.some((match) => match(name));
    const mailboxes = await session.mail.listMailboxes();
    const byName = new Map(mailboxes.map((mailbox) => [mailbox.name, mailbox]));
    const subscriptions = new Set(await session.mail.listSubscriptions());
    const hasChildren = (name: string) => mailboxes.some((mailbox) => mailbox.name.startsWith(name + '/'));
    const onlySubscribed = command.selectOptions.includes('SUBSCRIBED');
    const onlySpecialUse = command.selectOptions.includes('SPECIAL-USE');
    const showSubscribed = onlySubscribed || command.returnOptions.subscribed;
    let names = mailboxes.map((mailbox) => mailbox.name);
    if (onlySubscribed) names = [...new Set([...subscriptions])].sort();
    for (const name of names) {
      if (!matches(name)) continue;
      const mailbox: MailboxInfo | undefined = byName.get(name);
      if (onlySpecialUse && !mailbox?.specialUse) continue;
      const attributes: string[] = [];
      if (!mailbox) attributes.push('\\NonExistent');
      else attributes.push(hasChildren(name) ? '\\HasChildren' : '\\HasNoChildren');
      if (showSubscribed && subscriptions.has(name)) attributes.push('\\Subscribed');
      if (mailbox?.specialUse) attributes.push(mailbox.specialUse);
      await writer.untagged(listLine(session, 'LIST', attributes, name));
      // RFC 5819 §2: STATUS follows the LIST of each selectable mailbox.
      if (command.returnOptions.status && mailbox) await writer.untagged(statusResponse(session, mailbox, command.returnOptions.status));
    }
  },
});

export const lsub: CommandSpec<'LSUB'> = defineCommand({
  name: 'LSUB',
  states: authenticatedStates,
  async handler(session, command) {
    const match = patternMatcher(command.reference, command.pattern);
    const existing = new Set((await session.mail.listMailboxes()).map((mailbox) => mailbox.name));
    for (const name of await session.mail.listSubscriptions()) {
      if (!match(name)) continue;
      await session.writer.untagged(listLine(session, 'LSUB', existing.has(name) ? [] : ['\\Noselect'], name));
    }
  },
});

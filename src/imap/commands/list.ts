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

/** The superior names of `name`, outermost first: a/b/c → a, a/b. */
function ancestors(name: string): string[] {
  const levels = name.split('/');
  return levels.slice(0, -1).map((_, index) => levels.slice(0, index + 1).join('/'));
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
    const recursive = command.selectOptions.includes('RECURSIVEMATCH');
    const showSubscribed = onlySubscribed || command.returnOptions.subscribed;
    // RFC 5258 §3: a name is selected when it meets every selection option given.
    const selected = (name: string) => (!onlySubscribed || subscriptions.has(name)) && (!onlySpecialUse || Boolean(byName.get(name)?.specialUse));
    const names = new Set<string>(onlySubscribed ? subscriptions : mailboxes.map((mailbox) => mailbox.name));
    // RFC 5258 §3 RECURSIVEMATCH: a name that is not selected itself but has selected
    // descendants the patterns do not match is listed with CHILDINFO, naming the options.
    const childInfo = new Set<string>();
    if (recursive) {
      for (const name of names) {
        if (!selected(name) || matches(name)) continue;
        for (const ancestor of ancestors(name)) if (matches(ancestor)) childInfo.add(ancestor);
      }
      for (const name of childInfo) names.add(name);
    }
    const childInfoItem = ` (CHILDINFO (${command.selectOptions.filter((option) => option !== 'RECURSIVEMATCH' && option !== 'REMOTE').map((option) => `"${option}"`).join(' ')}))`;
    for (const name of [...names].sort()) {
      if (!matches(name)) continue;
      const isSelected = selected(name);
      if (!isSelected && !childInfo.has(name)) continue;
      const mailbox: MailboxInfo | undefined = byName.get(name);
      const attributes: string[] = [];
      if (!mailbox) attributes.push('\\NonExistent');
      else attributes.push(hasChildren(name) ? '\\HasChildren' : '\\HasNoChildren');
      if (showSubscribed && subscriptions.has(name)) attributes.push('\\Subscribed');
      if (mailbox?.specialUse) attributes.push(mailbox.specialUse);
      const line = listLine(session, 'LIST', attributes, name);
      await writer.untagged(childInfo.has(name) ? concat([line, childInfoItem]) : line);
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
    const subscriptions = await session.mail.listSubscriptions();
    const subscribed = new Set(subscriptions);
    const lines = new Map<string, string[]>();
    for (const name of subscriptions) {
      if (match(name)) {
        lines.set(name, existing.has(name) ? [] : ['\\Noselect']);
        continue;
      }
      // RFC 3501 §6.3.9: when "%" stops at a level that is not subscribed but has a subscribed
      // child, that level is listed with \Noselect.
      for (const ancestor of ancestors(name)) if (!subscribed.has(ancestor) && match(ancestor)) lines.set(ancestor, ['\\Noselect']);
    }
    for (const name of [...lines.keys()].sort()) await session.writer.untagged(listLine(session, 'LSUB', lines.get(name)!, name));
  },
});

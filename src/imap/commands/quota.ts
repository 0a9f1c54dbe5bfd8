// GETQUOTA and GETQUOTAROOT — RFC 9208 §4.2 and §4.3. One quota root, "", per account;
// SETQUOTA is the admin's (the CLI), not the user's. STORAGE is in units of 1024 octets.
import type { QuotaUsage } from '../../store/types.js';
import { no } from '../response.js';
import type { Session } from '../session.js';
import { authenticatedStates, defineCommand, type CommandSpec } from './command.js';

function quotaLine(usage: QuotaUsage): string {
  const resources: string[] = [];
  if (usage.storage.limit !== null) resources.push(`STORAGE ${Math.ceil(usage.storage.used / 1024)} ${Math.floor(usage.storage.limit / 1024)}`);
  if (usage.messages.limit !== null) resources.push(`MESSAGE ${usage.messages.used} ${usage.messages.limit}`);
  return `QUOTA "" (${resources.join(' ')})`;
}

async function sendQuota(session: Session): Promise<void> {
  await session.writer.untagged(quotaLine(await session.mail.quota()));
}

export const getQuota: CommandSpec<'GETQUOTA'> = defineCommand({
  name: 'GETQUOTA',
  states: authenticatedStates,
  async handler(session, command) {
    if (command.root !== '') throw no('no such quota root', 'NONEXISTENT');
    await sendQuota(session);
  },
});

export const getQuotaRoot: CommandSpec<'GETQUOTAROOT'> = defineCommand({
  name: 'GETQUOTAROOT',
  states: authenticatedStates,
  async handler(session, command) {
    const info = await session.mail.getMailbox(command.mailbox);
    await session.writer.untagged(Buffer.concat([Buffer.from('QUOTAROOT '), Buffer.from(session.mailboxName(info.name)), Buffer.from(' ""')]));
    await sendQuota(session);
  },
});

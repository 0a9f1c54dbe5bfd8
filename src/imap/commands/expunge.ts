// EXPUNGE — RFC 9051 §6.4.3; UID EXPUNGE — RFC 4315 §2.1 (only the given UIDs).
import { no } from '../response.js';
import { toNumberSet, type Session } from '../session.js';
import { defineCommand, selectedState, type CommandSpec } from './command.js';

async function run(session: Session, uids: number[] | null): Promise<void> {
  const view = session.view;
  if (view.readOnly) throw no('mailbox is read-only', 'READ-ONLY');
  if (uids && uids.length === 0) return;
  const result = await session.mail.expunge(view.id, uids ? toNumberSet(uids) : undefined);
  await session.expunged(result.uids);
}

export const expunge: CommandSpec<'EXPUNGE'> = defineCommand({
  name: 'EXPUNGE',
  states: selectedState,
  async handler(session) {
    await run(session, null);
  },
});

export const uidExpunge: CommandSpec<'UID EXPUNGE'> = defineCommand({
  name: 'UID EXPUNGE',
  states: selectedState,
  async handler(session, command) {
    await run(session, session.resolve(command.set, true));
  },
});

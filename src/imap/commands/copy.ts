// COPY — RFC 9051 §6.4.7; MOVE — RFC 9051 §6.4.8 (RFC 6851); COPYUID from UIDPLUS
// (RFC 4315 §3). MOVE sends COPYUID in an untagged OK before the EXPUNGEs (RFC 6851 §4.3).
import { NotFound } from '../../errors.js';
import { ImapReply, no } from '../response.js';
import { formatNumberSet, toNumberSet, type Session } from '../session.js';
import { defineCommand, selectedState, type CommandSpec } from './command.js';

function trycreate(error: unknown): never {
  throw error instanceof NotFound ? no('no such mailbox', 'TRYCREATE') : error;
}

function copyUid(uidValidity: number, pairs: { source: number; destination: number }[]): string {
  return `COPYUID ${uidValidity} ${formatNumberSet(pairs.map((pair) => pair.source))} ${formatNumberSet(pairs.map((pair) => pair.destination))}`;
}

async function run(session: Session, uids: number[], mailbox: string, move: boolean): Promise<ImapReply | void> {
  const view = session.view;
  const destination = await session.mail.getMailbox(mailbox).catch(trycreate);
  if (uids.length === 0) return; // RFC 9051 §6.4.8: an empty set is not an error
  if (!move) {
    const result = await session.mail.copy(view.id, toNumberSet(uids), mailbox);
    if (result.pairs.length === 0) return new ImapReply('OK', 'COPY completed');
    return new ImapReply('OK', 'COPY completed', copyUid(result.uidValidity, result.pairs));
  }
  if (view.readOnly) throw no('mailbox is read-only', 'READ-ONLY');
  // The store refuses a move into the same mailbox; RFC 6851 allows it (new UIDs, old ones expunged).
  const result = destination.id === view.id ? await moveWithinMailbox(session, uids, mailbox) : await session.mail.move(view.id, toNumberSet(uids), mailbox);
  if (result.pairs.length > 0) await session.writer.untagged(`OK [${copyUid(result.uidValidity, result.pairs)}] moved`);
  await session.expunged(result.uids);
  return new ImapReply('OK', 'MOVE completed');
}

async function moveWithinMailbox(session: Session, uids: number[], mailbox: string): Promise<{ uidValidity: number; pairs: { source: number; destination: number }[]; uids: number[] }> {
  const view = session.view;
  const copied = await session.mail.copy(view.id, toNumberSet(uids), mailbox);
  const sources = toNumberSet(copied.pairs.map((pair) => pair.source));
  const flagged = await session.mail.updateFlags(view.id, sources, { mode: 'add', flags: ['\\Deleted'] });
  view.ownModseqs.add(flagged.modseq);
  const expunged = await session.mail.expunge(view.id, sources);
  return { uidValidity: copied.uidValidity, pairs: copied.pairs, uids: expunged.uids };
}

export const copy: CommandSpec<'COPY'> = defineCommand({
  name: 'COPY',
  states: selectedState,
  async handler(session, command) {
    return run(session, session.resolve(command.set, command.uid), command.mailbox, false);
  },
});

export const move: CommandSpec<'MOVE'> = defineCommand({
  name: 'MOVE',
  states: selectedState,
  async handler(session, command) {
    return run(session, session.resolve(command.set, command.uid), command.mailbox, true);
  },
});

// SELECT and EXAMINE — RFC 9051 §6.3.2 and §6.3.3, CONDSTORE (RFC 7162 §3.1.8).
// Authenticated or selected: a new SELECT first deselects (and says [CLOSED], §7.1).
import { ImapReply } from '../response.js';
import type { QresyncParameters } from '../parser/index.js';
import { claimRecent, formatNumberSet, recentClaim, type Session } from '../session.js';
import { authenticatedStates, defineCommand, type CommandSpec } from './command.js';

async function open(session: Session, mailbox: string, readOnly: boolean, condstore: boolean, qresync: QresyncParameters | null): Promise<ImapReply> {
  // RFC 7162 §3.2.5: the QRESYNC parameter needs ENABLE QRESYNC first.
  if (qresync && !session.qresync) throw new ImapReply('BAD', 'QRESYNC is not enabled');
  if (session.selected) {
    session.deselect();
    await session.writer.untagged('OK [CLOSED] previous mailbox closed');
  }
  if (condstore) session.condstore = true;
  const account = session.mail;
  const info = await account.getMailbox(mailbox);
  // A record withheld for a bad checksum is still a message of this mailbox: it keeps
  // its place (EXISTS, a sequence number), and every FETCH of it says NO [UNAVAILABLE],
  // as for a message whose blob failed verification — never an OK with nothing in it.
  // Its fields are unproven; a UID at or past UIDNEXT cannot be one the mailbox gave out.
  const withheld: number[] = [];
  const records = await account.fetch(info.id, { uids: [[1, Infinity]], onWithheld: (uid) => withheld.push(uid) });
  const uids = mergeUids(records.map((record) => record.uid), withheld.filter((uid) => Number.isSafeInteger(uid) && uid >= 1 && uid < info.uidNext));
  // reduce, not Math.max(...): spreading a large mailbox's records overflows the stack.
  const highestModseq = records.reduce((highest, record) => Math.max(highest, record.modseq), Math.max(info.highestModseq, 0));
  session.selected = {
    id: info.id,
    name: info.name,
    readOnly,
    uidValidity: info.uidValidity,
    uids,
    exists: uids.length,
    modseq: highestModseq,
    pendingExpunges: new Set(),
    pendingFlags: new Set(),
    ownModseqs: new Set(),
    // EXAMINE sees \Recent without taking it (RFC 3501 §6.3.2).
    recent: new Set(readOnly ? uids.filter((uid) => uid > recentClaim(session.store, info.id)) : claimRecent(session.store, info.id, uids)),
    keywords: new Set(records.flatMap((record) => record.flags.filter((flag) => !flag.startsWith('\\')))),
  };
  session.state = 'selected';
  const writer = session.writer;
  await session.sendFlags();
  await writer.untagged(`${uids.length} EXISTS`);
  if (!session.rev2) {
    // RFC 3501 §6.3.1: RECENT is required there (RFC 9051 dropped it).
    await writer.untagged(`${session.selected.recent.size} RECENT`);
    // A sequence number in the view, which counts withheld records too.
    const firstUnseen = records.find((record) => !record.flags.includes('\\Seen'));
    if (firstUnseen) await writer.untagged(`OK [UNSEEN ${session.sequenceOf(firstUnseen.uid)}] first unseen message`);
  }
  await writer.untagged(`OK [UIDVALIDITY ${info.uidValidity}] UIDs valid`);
  await writer.untagged(`OK [UIDNEXT ${info.uidNext}] predicted next UID`);
  await writer.untagged(`OK [HIGHESTMODSEQ ${highestModseq}] highest MODSEQ`);
  await writer.untagged(`OK [MAILBOXID (${info.id})] mailbox id`);
  // RFC 9051 §6.3.2: the server MUST send a LIST response naming the mailbox.
  if (session.rev2) await writer.untagged(Buffer.concat([Buffer.from('LIST () "/" '), Buffer.from(session.mailboxName(info.name))]));
  if (qresync && qresync.uidValidity === info.uidValidity) await resynchronize(session, qresync);
  return new ImapReply('OK', `${readOnly ? 'EXAMINE' : 'SELECT'} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

/** Both lists ascending (rows come in UID order); one ascending list without repeats. */
function mergeUids(served: readonly number[], withheld: readonly number[]): number[] {
  if (withheld.length === 0) return [...served];
  return [...new Set([...served, ...withheld])].sort((a, b) => a - b);
}

/** RFC 7162 §3.2.5.2: what vanished and what changed since the client's MODSEQ. */
async function resynchronize(session: Session, qresync: QresyncParameters): Promise<void> {
  const view = session.view;
  const vanished = await session.vanishedSince(qresync.modseq, qresync.knownUids);
  if (vanished.length > 0) await session.writer.untagged(`VANISHED (EARLIER) ${formatNumberSet(vanished)}`);
  const changed = await session.mail.fetch(view.id, { uids: qresync.knownUids ?? [[1, Infinity]], changedSince: qresync.modseq });
  for (const record of changed) {
    const sequence = session.sequenceOf(record.uid);
    if (sequence === 0) continue;
    await session.writer.untagged(`${sequence} FETCH (UID ${record.uid} FLAGS (${record.flags.join(' ')}) MODSEQ (${record.modseq}))`);
  }
}

export const select: CommandSpec<'SELECT'> = defineCommand({
  name: 'SELECT',
  states: authenticatedStates,
  async handler(session, command) {
    return open(session, command.mailbox, false, command.condstore, command.qresync);
  },
});

export const examine: CommandSpec<'EXAMINE'> = defineCommand({
  name: 'EXAMINE',
  states: authenticatedStates,
  async handler(session, command) {
    return open(session, command.mailbox, true, command.condstore, command.qresync);
  },
});

// STORE — RFC 9051 §6.4.6 with CONDSTORE UNCHANGEDSINCE (RFC 7162 §3.1.3): messages
// changed since are not touched and come back in [MODIFIED uid-set].
import { ImapReply, no } from '../response.js';
import { formatNumberSet, toNumberSet } from '../session.js';
import { defineCommand, selectedState } from './command.js';

export default defineCommand({
  name: 'STORE',
  states: selectedState,
  async handler(session, command) {
    const view = session.view;
    if (view.readOnly) throw no('mailbox is read-only', 'READ-ONLY');
    if (command.unchangedSince !== null) await session.enableCondstore();
    const uids = session.resolve(command.set, command.uid);
    if (uids.length === 0) return;
    const flags = command.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
    const result = await session.mail.updateFlags(view.id, toNumberSet(uids), {
      mode: command.mode,
      flags,
      ...(command.unchangedSince !== null ? { unchangedSince: command.unchangedSince } : {}),
    });
    view.ownModseqs.add(result.modseq);
    for (const updated of result.updated) {
      // RFC 7162 §3.1.3: with UNCHANGEDSINCE, FLAGS are sent even for .SILENT (MODSEQ changed).
      if (command.silent && !session.condstore) continue;
      const sequence = session.sequenceOf(updated.uid);
      if (sequence === 0) continue;
      await session.noteFlags(updated.flags);
      const parts = [];
      // RFC 7162 §3.2.4: with QRESYNC every FETCH response carries the UID.
      if (command.uid || session.qresync) parts.push(`UID ${updated.uid}`);
      if (!command.silent) parts.push(`FLAGS (${session.displayFlags(updated.uid, updated.flags)})`);
      if (session.condstore) parts.push(`MODSEQ (${updated.modseq})`);
      await session.writer.untagged(`${sequence} FETCH (${parts.join(' ')})`);
    }
    if (result.failed.length > 0) {
      const failed = result.failed.filter((uid) => session.sequenceOf(uid) > 0);
      const set = command.uid ? failed : failed.map((uid) => session.sequenceOf(uid));
      return new ImapReply('OK', 'conditional STORE failed for some messages', `MODIFIED ${formatNumberSet(set.sort((a, b) => a - b))}`);
    }
    // A record that failed its checksum was left alone (a flag change would give it a fresh,
    // valid checksum): say so, as FETCH does, instead of an OK that suggests it changed.
    if (result.withheld.length > 0) return no(`${result.withheld.length} message(s) unavailable: the stored record failed verification; the others were updated`, 'UNAVAILABLE');
  },
});

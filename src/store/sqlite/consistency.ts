// Recomputes every derived value from its source of truth and lists where the
// stored one differs: record checksums from the record's fields, mailbox digests
// from the records, counters and sizes from the rows, quota usage from the
// messages, blob refcounts from the references, UIDNEXT and HIGHESTMODSEQ from
// the records. Tests hold the store to an empty list; `audit` will report it.
import { recordChecksum, xorDigest, emptyDigest } from '../record-checksum.js';
import { decodeFlags } from '../flags.js';
import type { StoreContext } from './context.js';
import type { AccountRow, MailboxRow, MessageRow } from './rows.js';

export interface Inconsistency {
  kind: string;
  where: string;
  stored: string | number;
  computed: string | number;
}

export function findInconsistencies(context: StoreContext): Inconsistency[] {
  const { ledger } = context;
  const problems: Inconsistency[] = [];
  const report = (kind: string, where: string, stored: string | number, computed: string | number) => {
    if (stored !== computed) problems.push({ kind, where, stored, computed });
  };
  const messagesOf = ledger.sql('SELECT * FROM messages WHERE mailbox_id = ? ORDER BY uid');
  for (const account of ledger.sql('SELECT * FROM accounts').all() as AccountRow[]) {
    let bytes = 0;
    let count = 0;
    let highest = 0;
    for (const mailbox of ledger.sql('SELECT * FROM mailboxes WHERE account_id = ?').all(account.id) as MailboxRow[]) {
      const where = `${account.login}/${mailbox.name}`;
      let digest = emptyDigest;
      let size = 0;
      let messages = 0;
      let maxUid = 0;
      let maxModseq = 0;
      for (const row of messagesOf.iterate(mailbox.id) as IterableIterator<MessageRow>) {
        const computed = recordChecksum({
          mailboxId: mailbox.object_id,
          uid: row.uid,
          blobHash: row.blob_hash,
          flags: decodeFlags(row.flags),
          internalDate: row.internal_date,
          saveDate: row.save_date,
          modseq: row.modseq,
          emailId: row.email_id,
          threadId: row.thread_id,
        });
        report('record.checksum', `${where} UID ${row.uid}`, row.checksum, computed);
        digest = xorDigest(digest, computed);
        size += row.size;
        messages++;
        maxUid = Math.max(maxUid, row.uid);
        maxModseq = Math.max(maxModseq, row.modseq);
      }
      report('mailbox.digest', where, mailbox.digest, digest);
      report('mailbox.message_count', where, mailbox.message_count, messages);
      report('mailbox.total_size', where, mailbox.total_size, size);
      if (mailbox.uidnext <= maxUid) report('mailbox.uidnext', where, mailbox.uidnext, maxUid + 1);
      if (mailbox.highest_modseq < maxModseq) report('mailbox.highest_modseq', where, mailbox.highest_modseq, maxModseq);
      bytes += size;
      count += messages;
      highest = Math.max(highest, mailbox.highest_modseq);
    }
    report('account.used_bytes', account.login, account.used_bytes, bytes);
    report('account.used_messages', account.login, account.used_messages, count);
    if (account.highest_modseq < highest) report('account.highest_modseq', account.login, account.highest_modseq, highest);
    const lastChange = ledger.sql('SELECT max(modseq) AS modseq FROM changes WHERE account_id = ?').get(account.id) as { modseq: number | null };
    if ((lastChange.modseq ?? 0) > account.highest_modseq) report('account.change_log', account.login, account.highest_modseq, lastChange.modseq ?? 0);
  }
  const references = ledger.sql(
    `SELECT blobs.hash AS hash, blobs.refcount AS refcount,
            (SELECT count(*) FROM messages WHERE blob_hash = blobs.hash) + (SELECT count(*) FROM expunged WHERE blob_hash = blobs.hash) AS used
     FROM blobs`,
  );
  for (const row of references.iterate() as IterableIterator<{ hash: string; refcount: number; used: number }>) report('blob.refcount', row.hash, row.refcount, row.used);
  return problems;
}

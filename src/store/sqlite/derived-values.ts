// Audit's repair of derived values: each recomputed from its source and written back.
import { emptyDigest, xorDigest } from '../record-checksum.js';
import type { StoreContext } from './context.js';
import { accountRowDamage, mailboxRowDamage, messageRowDamage } from './row-damage.js';
import { rowChecksum, type MailboxRow, type MessageRow } from './rows.js';

/**
 * Every derived value recomputed from its source and written back: counters and
 * sizes from the rows, UIDNEXT and HIGHESTMODSEQ raised (never lowered: a client
 * may have seen them), digests from verified checksums, refcounts from references.
 * A mailbox holding a record that still fails its checksum keeps its digest: a
 * digest over an unproven record would make a corrupt copy look like a good one.
 */
export function rebuildDerivedValues(context: StoreContext, accountId: number | undefined): void {
  const { ledger } = context;
  const accounts = (accountId === undefined ? ledger.sql('SELECT id FROM accounts').all() : [{ id: accountId }]) as { id: number }[];
  for (const { id } of accounts) {
    const account = ledger.sql('SELECT * FROM accounts WHERE id = ?').get(id) as object | undefined;
    // A damaged row is restored from a backup, never counted into what is rebuilt.
    if (!account || accountRowDamage(account)) continue;
    ledger
      .sql(
        `UPDATE messages SET size = (SELECT size FROM blobs WHERE hash = messages.blob_hash)
         WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)
           AND size != coalesce((SELECT size FROM blobs WHERE hash = messages.blob_hash), size)`,
      )
      .run(id);
    let bytes = 0;
    let count = 0;
    let highest = 0;
    for (const mailbox of ledger.sql('SELECT * FROM mailboxes WHERE account_id = ?').all(id) as MailboxRow[]) {
      if (mailboxRowDamage(mailbox)) continue;
      let digest = emptyDigest;
      let proven = true;
      let size = 0;
      let messages = 0;
      let maxUid = 0;
      let maxModseq = 0;
      for (const row of ledger.sql('SELECT * FROM messages WHERE mailbox_id = ?').iterate(mailbox.id) as IterableIterator<MessageRow>) {
        if (messageRowDamage(row)) {
          proven = false;
          continue;
        }
        const computed = rowChecksum(mailbox.object_id, row);
        if (computed !== row.checksum) proven = false;
        digest = xorDigest(digest, computed);
        size += row.size;
        messages++;
        maxUid = Math.max(maxUid, row.uid);
        maxModseq = Math.max(maxModseq, row.modseq);
      }
      const highestModseq = Math.max(mailbox.highest_modseq, maxModseq);
      ledger
        .sql('UPDATE mailboxes SET message_count = ?, total_size = ?, uidnext = ?, highest_modseq = ?, digest = ? WHERE id = ?')
        .run(messages, size, Math.max(mailbox.uidnext, maxUid + 1), highestModseq, proven ? digest : mailbox.digest, mailbox.id);
      bytes += size;
      count += messages;
      highest = Math.max(highest, highestModseq);
    }
    const lastChange = ledger.sql('SELECT max(modseq) AS modseq FROM changes WHERE account_id = ?').get(id) as { modseq: number | null };
    ledger
      .sql('UPDATE accounts SET used_bytes = ?, used_messages = ?, highest_modseq = max(highest_modseq, ?, ?) WHERE id = ?')
      .run(bytes, count, highest, lastChange.modseq ?? 0, id);
  }
  const used = '(SELECT count(*) FROM messages WHERE blob_hash = blobs.hash) + (SELECT count(*) FROM expunged WHERE blob_hash = blobs.hash)';
  // A blob whose references all went without the store removing them (lost records)
  // keeps its refcount: lowered to 0 it would be garbage, and it is a message to recover.
  const change = `refcount != ${used} AND NOT (refcount > 0 AND ${used} = 0)`;
  if (accountId === undefined) {
    ledger.sql(`UPDATE blobs SET refcount = ${used} WHERE ${change}`).run();
  } else {
    ledger
      .sql(
        `UPDATE blobs SET refcount = ${used} WHERE ${change} AND hash IN (
           SELECT blob_hash FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.account_id = ?
           UNION SELECT blob_hash FROM expunged WHERE account_id = ?)`,
      )
      .run(accountId, accountId);
  }
}

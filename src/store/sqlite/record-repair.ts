// Audit's repair of records that fail their checksum, from copies of the store.
import type { Inconsistency, RecordSource } from '../integrity-port.js';
import type { StoreContext } from './context.js';
import type { MailboxRow, MessageRow } from './rows.js';

/**
 * A record whose fields no longer hash to its checksum was changed behind the
 * store's back (or its checksum was). The stored checksum still names the
 * original: a copy's record with that verified checksum is the original, so its
 * fields come back. A copy's record at the same UID whose checksum equals this
 * row's recomputed one proves the fields right and the checksum wrong.
 * Runs inside a write; records each looked-at inconsistency's outcome.
 */
export function repairRecords(context: StoreContext, inconsistencies: readonly Inconsistency[], copies: readonly RecordSource[], outcomes: Map<Inconsistency, 'repaired' | 'unrepaired'>): void {
  const { ledger } = context;
  for (const inconsistency of inconsistencies) {
    if (inconsistency.kind !== 'record.checksum' || !inconsistency.location) continue;
    const { mailboxId, uid } = inconsistency.location;
    const mailbox = ledger.sql('SELECT * FROM mailboxes WHERE id = ?').get(mailboxId) as MailboxRow | undefined;
    const row = ledger.sql('SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailboxId, uid) as MessageRow | undefined;
    if (!mailbox || !row) continue;
    outcomes.set(inconsistency, 'unrepaired');
    for (const copy of copies) {
      const original = copy.findRecordByChecksum(mailbox.object_id, row.checksum);
      if (original) {
        const taken = original.uid !== row.uid && ledger.sql('SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailbox.id, original.uid);
        if (taken || !ensureBlobRow(context, copy, original.blob_hash)) continue;
        ledger
          .sql(
            `UPDATE messages SET uid = ?, blob_hash = ?, size = ?, internal_date = ?, save_date = ?, flags = ?, modseq = ?, email_id = ?, thread_id = ?, checksum = ?
             WHERE mailbox_id = ? AND uid = ?`,
          )
          .run(original.uid, original.blob_hash, original.size, original.internal_date, original.save_date, original.flags, original.modseq, original.email_id, original.thread_id, original.checksum, mailbox.id, row.uid);
        outcomes.set(inconsistency, 'repaired');
        break;
      }
      const sameUid = copy.findRecordByUid(mailbox.object_id, row.uid);
      if (sameUid && sameUid.checksum === ledger.checksumOf(mailbox, row)) {
        ledger.sql('UPDATE messages SET checksum = ? WHERE mailbox_id = ? AND uid = ?').run(sameUid.checksum, mailbox.id, row.uid);
        outcomes.set(inconsistency, 'repaired');
        break;
      }
    }
  }
}

/** A restored record may point at a blob whose row is gone here; the copy's row comes back with it (refcount is rebuilt later). */
function ensureBlobRow(context: StoreContext, copy: RecordSource, hash: string): boolean {
  if (context.ledger.sql('SELECT 1 FROM blobs WHERE hash = ?').get(hash)) return true;
  const row = copy.blobRow(hash);
  if (!row) return false;
  context.ledger.sql('INSERT INTO blobs (hash, size, refcount, structure, created_at) VALUES (?, ?, 0, ?, ?)').run(row.hash, row.size, row.structure, row.created_at);
  return true;
}

// Recomputes every derived value from its source of truth and lists where the
// stored one differs: record checksums from the record's fields, mailbox digests
// from the records, counters and sizes from the rows, quota usage from the
// messages, blob refcounts from the references, UIDNEXT and HIGHESTMODSEQ from
// the records, message sizes from their blobs, and the change log's order. Tests
// hold the store to an empty list; `postkeep audit` reports it.
import { emptyDigest, xorDigest } from '../record-checksum.js';
import type { Inconsistency } from '../integrity-port.js';
import type { StoreContext } from './context.js';
import { findMalformedRows } from './malformed-rows.js';
import { accountRowDamage, mailboxRowDamage, messageRowDamage } from './row-damage.js';
import { rowChecksum, type AccountRow, type MailboxRow, type MessageRow } from './rows.js';

export type { Inconsistency };

export interface ConsistencyScope {
  /** Only this account (and the blobs its records use); every account when absent. */
  accountId?: number;
}

export function findInconsistencies(context: StoreContext, scope: ConsistencyScope = {}): Inconsistency[] {
  const { ledger } = context;
  const problems: Inconsistency[] = [];
  const report = (kind: string, where: string, stored: string | number, computed: string | number, location?: Inconsistency['location']) => {
    if (stored !== computed) problems.push({ kind, where, stored, computed, ...(location ? { location } : {}) });
  };
  const messagesOf = ledger.sql(
    'SELECT messages.*, blobs.size AS blob_size FROM messages LEFT JOIN blobs ON blobs.hash = messages.blob_hash WHERE mailbox_id = ? ORDER BY uid',
  );
  const accounts =
    scope.accountId === undefined
      ? (ledger.sql('SELECT * FROM accounts').all() as AccountRow[])
      : (ledger.sql('SELECT * FROM accounts WHERE id = ?').all(scope.accountId) as AccountRow[]);
  for (const account of accounts) {
    // A damaged value is reported, and nothing is computed from the row that holds it.
    const accountDamage = accountRowDamage(account);
    if (accountDamage) {
      problems.push(malformed('account.malformed', `account row ${String(account.id)}`, accountDamage));
      continue;
    }
    let bytes = 0;
    let count = 0;
    let highest = 0;
    for (const mailbox of ledger.sql('SELECT * FROM mailboxes WHERE account_id = ?').all(account.id) as MailboxRow[]) {
      const mailboxDamage = mailboxRowDamage(mailbox);
      if (mailboxDamage) {
        problems.push(malformed('mailbox.malformed', `${account.login}/${typeof mailbox.name === 'string' ? mailbox.name : `mailbox row ${String(mailbox.id)}`}`, mailboxDamage));
        continue;
      }
      const where = `${account.login}/${mailbox.name}`;
      let digest = emptyDigest;
      let size = 0;
      let messages = 0;
      let maxUid = 0;
      let maxModseq = 0;
      for (const row of messagesOf.iterate(mailbox.id) as IterableIterator<MessageRow & { blob_size: number | null }>) {
        const rowDamage = messageRowDamage(row);
        if (rowDamage) {
          const uid = typeof row.uid === 'number' ? `UID ${row.uid}` : `a record (UID ${String(row.uid)})`;
          problems.push({ ...malformed('record.malformed', `${where} ${uid}`, rowDamage), location: { accountId: account.id, mailboxId: mailbox.id } });
          continue;
        }
        const computed = rowChecksum(mailbox.object_id, row);
        const record = { accountId: account.id, mailboxId: mailbox.id, uid: row.uid, blobHash: row.blob_hash };
        report('record.checksum', `${where} UID ${row.uid}`, row.checksum, computed, record);
        // A record without its blob row is the foreign-key check's to report.
        if (row.blob_size !== null) report('record.size', `${where} UID ${row.uid}`, row.size, row.blob_size, record);
        digest = xorDigest(digest, computed);
        size += row.size;
        messages++;
        maxUid = Math.max(maxUid, row.uid);
        maxModseq = Math.max(maxModseq, row.modseq);
      }
      const box = { accountId: account.id, mailboxId: mailbox.id };
      report('mailbox.digest', where, mailbox.digest, digest, box);
      report('mailbox.message_count', where, mailbox.message_count, messages, box);
      report('mailbox.total_size', where, mailbox.total_size, size, box);
      if (mailbox.uidnext <= maxUid) report('mailbox.uidnext', where, mailbox.uidnext, maxUid + 1, box);
      if (mailbox.highest_modseq < maxModseq) report('mailbox.highest_modseq', where, mailbox.highest_modseq, maxModseq, box);
      bytes += size;
      count += messages;
      highest = Math.max(highest, mailbox.highest_modseq);
    }
    if (account.highest_modseq < highest) report('account.highest_modseq', account.login, account.highest_modseq, highest);
    report('account.used_bytes', account.login, account.used_bytes, bytes);
    report('account.used_messages', account.login, account.used_messages, count);
    const lastChange = ledger.sql('SELECT max(modseq) AS modseq FROM changes WHERE account_id = ?').get(account.id) as { modseq: number | null };
    if ((lastChange.modseq ?? 0) > account.highest_modseq) report('account.change_log', account.login, account.highest_modseq, lastChange.modseq ?? 0);
    // Continuity: rows are appended in commit order, so MODSEQ never goes back along the ids.
    let backwards = 0;
    let previous = 0;
    for (const change of ledger.sql('SELECT modseq FROM changes WHERE account_id = ? ORDER BY id').iterate(account.id) as IterableIterator<{ modseq: number }>) {
      if (change.modseq < previous) backwards++;
      previous = change.modseq;
    }
    report('account.change_log_order', account.login, backwards, 0);
  }
  const used = `(SELECT count(*) FROM messages WHERE blob_hash = blobs.hash) + (SELECT count(*) FROM expunged WHERE blob_hash = blobs.hash)`;
  const references =
    scope.accountId === undefined
      ? ledger.sql(`SELECT blobs.hash AS hash, blobs.refcount AS refcount, ${used} AS used FROM blobs`).iterate()
      : ledger
          .sql(
            `SELECT blobs.hash AS hash, blobs.refcount AS refcount, ${used} AS used FROM blobs
             WHERE hash IN (SELECT blob_hash FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.account_id = ?
                            UNION SELECT blob_hash FROM expunged WHERE account_id = ?)`,
          )
          .iterate(scope.accountId, scope.accountId);
  for (const row of references as IterableIterator<{ hash: string; refcount: number; used: number }>) report('blob.refcount', row.hash, row.refcount, row.used, { blobHash: row.hash });
  problems.push(...findMalformedRows(context, scope));
  return problems;
}

function malformed(kind: string, where: string, damage: string): Inconsistency {
  return { kind, where, stored: damage, computed: 'a well-formed row', detail: `damaged values: ${damage}; restore the database from a backup` };
}

// Every mailbox of a store's database with its stored digest and the digest
// recomputed from its records (invariant 3), read straight from a database file:
// what backup writes into its manifest and what verify, restore and compare
// hold a copy to.
import type Database from 'better-sqlite3';
import { emptyDigest, xorDigest } from '../record-checksum.js';
import type { MailboxSummary } from '../store-snapshot.js';
import { messageRowDamage } from './row-damage.js';
import { rowChecksum, type MessageRow } from './rows.js';

export function summarizeMailboxes(database: Database.Database): MailboxSummary[] {
  const mailboxes = database
    .prepare('SELECT mailboxes.id AS row_id, object_id, name, uidvalidity, digest, accounts.login AS login FROM mailboxes JOIN accounts ON accounts.id = mailboxes.account_id ORDER BY login, name')
    .all() as { row_id: number; object_id: string; name: string; uidvalidity: number; digest: string; login: string }[];
  const records = database.prepare('SELECT * FROM messages WHERE mailbox_id = ? ORDER BY uid');
  return mailboxes.map((mailbox) => {
    let digest = emptyDigest;
    let messages = 0;
    const corruptRecords: number[] = [];
    for (const row of records.iterate(mailbox.row_id) as IterableIterator<MessageRow>) {
      // A damaged row counts as corrupt and adds nothing to the digest (there is no checksum to trust).
      if (messageRowDamage(row)) {
        corruptRecords.push(typeof row.uid === 'number' ? row.uid : 0);
        messages++;
        continue;
      }
      const checksum = rowChecksum(mailbox.object_id, row);
      if (checksum !== row.checksum) corruptRecords.push(row.uid);
      digest = xorDigest(digest, checksum);
      messages++;
    }
    return {
      account: mailbox.login,
      name: mailbox.name,
      id: mailbox.object_id,
      uidValidity: mailbox.uidvalidity,
      messages,
      storedDigest: mailbox.digest,
      computedDigest: digest,
      corruptRecords,
    };
  });
}


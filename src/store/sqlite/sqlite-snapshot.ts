// A SQLite store's database opened read-only (a backup's snapshot, a copy, a damaged
// database set aside), answering the engine-neutral StoreSnapshot.
import type { CopiedBlobRow, LocatedRecord, MailboxSummary, QueuedMessage, StoreSnapshot } from '../store-snapshot.js';
import type { StoredRecord } from '../stored-record.js';
import { summarizeMailboxes } from './mailbox-summary.js';
import { openReadOnlyDatabase, type ReadOnlyDatabase } from './read-only-database.js';
import type { MessageRow } from './rows.js';

export class SqliteSnapshot implements StoreSnapshot {
  constructor(private readonly database: ReadOnlyDatabase) {}

  static open(file: string): SqliteSnapshot {
    return new SqliteSnapshot(openReadOnlyDatabase(file));
  }

  recordsWithChecksum(mailboxObjectId: string, checksum: string): StoredRecord[] {
    return this.database
      .prepare('SELECT messages.*, mailboxes.object_id AS object_id FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? AND messages.checksum = ?')
      .all(mailboxObjectId, checksum) as MessageRow[];
  }

  recordAt(mailboxObjectId: string, uid: number): StoredRecord | null {
    return (
      (this.database
        .prepare('SELECT messages.*, mailboxes.object_id AS object_id FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? AND messages.uid = ?')
        .get(mailboxObjectId, uid) as MessageRow | undefined) ?? null
    );
  }

  blobRow(hash: string): CopiedBlobRow | null {
    return (this.database.prepare('SELECT hash, size, structure, created_at FROM blobs WHERE hash = ?').get(hash) as CopiedBlobRow | undefined) ?? null;
  }

  summarizeMailboxes(): MailboxSummary[] {
    return summarizeMailboxes(this.database);
  }

  recordsOf(mailboxObjectId: string): Map<number, StoredRecord> {
    const rows = this.database
      .prepare('SELECT messages.* FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? ORDER BY uid')
      .all(mailboxObjectId) as MessageRow[];
    return new Map(rows.map((row) => [row.uid, row]));
  }

  allRecords(): LocatedRecord[] {
    return this.database
      .prepare(
        `SELECT messages.*, mailboxes.object_id AS mailbox_object_id, accounts.login AS login
         FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id JOIN accounts ON accounts.id = mailboxes.account_id`,
      )
      .all() as LocatedRecord[];
  }

  queuedMessages(): QueuedMessage[] {
    const messages = this.database.prepare('SELECT id, blob_hash, sender, expires_at FROM outbound_messages ORDER BY id').all() as { id: number; blob_hash: string; sender: string; expires_at: number }[];
    const recipients = this.database.prepare('SELECT address, state, attempts FROM outbound_recipients WHERE message_id = ? ORDER BY address');
    return messages.flatMap((message) => {
      const list = recipients.all(message.id) as QueuedMessage['recipients'];
      // A queued message without recipients is not one a queue would send (and was never listed).
      if (list.length === 0) return [];
      return [{ id: message.id, blobHash: message.blob_hash, sender: message.sender, expiresAt: message.expires_at, recipients: list }];
    });
  }

  structureProblems(): string[] {
    const lines = this.database.pragma('integrity_check') as { integrity_check: string }[];
    return lines.map((line) => line.integrity_check).filter((line) => line !== 'ok');
  }

  close(): void {
    this.database.close();
  }
}

// The bookkeeping every mutation shares, run inside a transaction: the next
// MODSEQ and its change-log row (invariant 4), record checksums and mailbox
// digests (invariant 3), per-mailbox and per-account counters, blob refcounts.
// Keeping all of it here means no command can update one and forget another.
import { randomBytes } from 'node:crypto';
import { NotFound, QuotaExceeded } from '../../errors.js';
import { encodeFlags } from '../flags.js';
import { xorDigest } from '../record-checksum.js';
import type { Change, ChangeKind } from '../types.js';
import type { SqliteDatabase } from './database.js';
import type { Statement } from 'better-sqlite3';
import { rowChecksum, type AccountRow, type MailboxRow, type MessageRow } from './rows.js';

export interface NewMessage {
  blobHash: string;
  size: number;
  internalDate: number;
  flags: readonly string[];
  emailId: string;
  threadId: string;
}

export function newObjectId(prefix: 'M' | 'E' | 'T'): string {
  // RFC 8474 §4: objectid is 1*255(ALPHA / DIGIT / "_" / "-"); random, so never reused.
  return prefix + randomBytes(12).toString('base64url');
}

export class Ledger {
  /** Changes made in the current transaction, handed to watchers after commit. */
  changes: (Change & { accountId: number })[] = [];

  private readonly statements = new Map<string, Statement>();

  constructor(readonly db: SqliteDatabase) {}

  /** A prepared statement, compiled once per distinct SQL text. */
  sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Starts collecting the changes of one operation; `takeChanges` hands them over. */
  begin(): void {
    this.changes = [];
  }

  takeChanges(): (Change & { accountId: number })[] {
    const taken = this.changes;
    this.changes = [];
    return taken;
  }

  account(accountId: number): AccountRow {
    const row = this.sql('SELECT * FROM accounts WHERE id = ?').get(accountId) as AccountRow | undefined;
    if (!row) throw new NotFound('the account no longer exists');
    return row;
  }

  mailboxById(accountId: number, objectId: string): MailboxRow {
    const row = this.sql('SELECT * FROM mailboxes WHERE account_id = ? AND object_id = ?').get(accountId, objectId) as MailboxRow | undefined;
    if (!row) throw new NotFound('the mailbox no longer exists');
    return row;
  }

  mailboxByName(accountId: number, name: string): MailboxRow {
    const row = this.sql('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, name) as MailboxRow | undefined;
    if (!row) throw new NotFound(`there is no mailbox named ${JSON.stringify(name)}`);
    return row;
  }

  nextModseq(accountId: number): number {
    const row = this.sql('UPDATE accounts SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq').get(accountId) as
      | { highest_modseq: number }
      | undefined;
    if (!row) throw new NotFound('the account no longer exists');
    return row.highest_modseq;
  }

  logChange(accountId: number, modseq: number, mailboxObjectId: string, kind: ChangeKind, uid: number | null): void {
    this.sql('INSERT INTO changes (account_id, modseq, mailbox_object_id, kind, uid) VALUES (?, ?, ?, ?, ?)').run(accountId, modseq, mailboxObjectId, kind, uid);
    this.changes.push({ accountId, modseq, mailboxId: mailboxObjectId, kind, uid });
  }

  /** Refuses, with a typed error, what would take the account over its quota. */
  checkQuota(accountId: number, addedBytes: number, addedMessages: number): void {
    const account = this.account(accountId);
    if (account.quota_bytes !== null && account.used_bytes + addedBytes > account.quota_bytes) {
      throw new QuotaExceeded(`the account would use ${account.used_bytes + addedBytes} of its ${account.quota_bytes} bytes`, 'storage');
    }
    if (account.quota_messages !== null && account.used_messages + addedMessages > account.quota_messages) {
      throw new QuotaExceeded(`the account would hold ${account.used_messages + addedMessages} of its ${account.quota_messages} messages`, 'messages');
    }
  }

  /** Adds one message to a mailbox with the next UID. The blob row must exist. */
  insertMessage(mailbox: MailboxRow, message: NewMessage, modseq: number, saveDate: number): MessageRow {
    const current = this.sql('SELECT uidnext, digest FROM mailboxes WHERE id = ?').get(mailbox.id) as { uidnext: number; digest: string };
    const row: MessageRow = {
      mailbox_id: mailbox.id,
      uid: current.uidnext,
      blob_hash: message.blobHash,
      size: message.size,
      internal_date: message.internalDate,
      save_date: saveDate,
      flags: encodeFlags(message.flags),
      modseq,
      email_id: message.emailId,
      thread_id: message.threadId,
      checksum: '',
    };
    row.checksum = this.checksumOf(mailbox, row);
    this.sql(
        `INSERT INTO messages (mailbox_id, uid, blob_hash, size, internal_date, save_date, flags, modseq, email_id, thread_id, checksum)
         VALUES (@mailbox_id, @uid, @blob_hash, @size, @internal_date, @save_date, @flags, @modseq, @email_id, @thread_id, @checksum)`,
      )
      .run(row);
    this.sql(
        `UPDATE mailboxes SET uidnext = uidnext + 1, message_count = message_count + 1, total_size = total_size + ?,
           highest_modseq = max(highest_modseq, ?), digest = ? WHERE id = ?`,
      )
      .run(message.size, modseq, xorDigest(current.digest, row.checksum), mailbox.id);
    this.sql('UPDATE accounts SET used_bytes = used_bytes + ?, used_messages = used_messages + 1 WHERE id = ?').run(message.size, mailbox.account_id);
    this.sql('UPDATE blobs SET refcount = refcount + 1 WHERE hash = ?').run(message.blobHash);
    this.logChange(mailbox.account_id, modseq, mailbox.object_id, 'append', row.uid);
    return row;
  }

  /**
   * Removes a message record. With `retainUntilCollected` the record moves to the
   * expunged table (keeping its blob reference) so undelete can bring it back.
   */
  removeMessage(mailbox: MailboxRow, row: MessageRow, modseq: number, retainUntilCollected: boolean, now: number): void {
    const current = this.sql('SELECT digest FROM mailboxes WHERE id = ?').get(mailbox.id) as { digest: string };
    this.sql('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?').run(mailbox.id, row.uid);
    this.sql(
        `UPDATE mailboxes SET message_count = message_count - 1, total_size = total_size - ?,
           highest_modseq = max(highest_modseq, ?), digest = ? WHERE id = ?`,
      )
      .run(row.size, modseq, xorDigest(current.digest, row.checksum), mailbox.id);
    this.sql('UPDATE accounts SET used_bytes = used_bytes - ?, used_messages = used_messages - 1 WHERE id = ?').run(row.size, mailbox.account_id);
    if (retainUntilCollected) {
      this.sql(
          `INSERT INTO expunged (account_id, mailbox_object_id, mailbox_name, uid, blob_hash, size, internal_date, flags, email_id, thread_id, expunged_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(mailbox.account_id, mailbox.object_id, mailbox.name, row.uid, row.blob_hash, row.size, row.internal_date, row.flags, row.email_id, row.thread_id, now);
    } else {
      this.sql('UPDATE blobs SET refcount = refcount - 1 WHERE hash = ?').run(row.blob_hash);
    }
    this.logChange(mailbox.account_id, modseq, mailbox.object_id, 'expunge', row.uid);
  }

  /** Rewrites a message's flags under a new MODSEQ, keeping checksum and digest in step. */
  setFlags(mailbox: MailboxRow, row: MessageRow, flags: readonly string[], modseq: number): MessageRow {
    const current = this.sql('SELECT digest FROM mailboxes WHERE id = ?').get(mailbox.id) as { digest: string };
    const updated: MessageRow = { ...row, flags: encodeFlags(flags), modseq };
    updated.checksum = this.checksumOf(mailbox, updated);
    this.sql('UPDATE messages SET flags = ?, modseq = ?, checksum = ? WHERE mailbox_id = ? AND uid = ?').run(updated.flags, modseq, updated.checksum, mailbox.id, row.uid);
    this.sql('UPDATE mailboxes SET highest_modseq = max(highest_modseq, ?), digest = ? WHERE id = ?')
      .run(modseq, xorDigest(xorDigest(current.digest, row.checksum), updated.checksum), mailbox.id);
    this.logChange(mailbox.account_id, modseq, mailbox.object_id, 'flags', row.uid);
    return updated;
  }

  checksumOf(mailbox: MailboxRow, row: MessageRow): string {
    return rowChecksum(mailbox.object_id, row);
  }
}

// Row shapes as SQLite returns them, and their conversion to the store's types.
import { decodeFlags } from '../flags.js';
import { recordChecksum } from '../record-checksum.js';
import type { StoredRecord } from '../stored-record.js';
import type { MailboxInfo, MessageRecord } from '../types.js';

export interface AccountRow {
  id: number;
  login: string;
  password_hash: string;
  quota_bytes: number | null;
  quota_messages: number | null;
  used_bytes: number;
  used_messages: number;
  highest_modseq: number;
  last_uidvalidity: number;
}

export interface MailboxRow {
  id: number;
  account_id: number;
  object_id: string;
  name: string;
  special_use: string | null;
  uidvalidity: number;
  uidnext: number;
  highest_modseq: number;
  message_count: number;
  total_size: number;
  digest: string;
}

/** A stored record with the mailbox row it belongs to. */
export interface MessageRow extends StoredRecord {
  mailbox_id: number;
}

export interface ExpungedRow {
  id: number;
  account_id: number;
  mailbox_object_id: string;
  mailbox_name: string;
  uid: number;
  blob_hash: string;
  size: number;
  internal_date: number;
  flags: string;
  email_id: string;
  thread_id: string;
  expunged_at: number;
}

export function toMessageRecord(row: MessageRow): MessageRecord {
  return {
    uid: row.uid,
    modseq: row.modseq,
    blobHash: row.blob_hash,
    size: row.size,
    internalDate: new Date(row.internal_date),
    saveDate: new Date(row.save_date),
    flags: decodeFlags(row.flags),
    emailId: row.email_id,
    threadId: row.thread_id,
    checksum: row.checksum,
  };
}

export function toMailboxInfo(row: MailboxRow, counts: { unseen: number; deleted: number }, subscribed: boolean): MailboxInfo {
  return {
    id: row.object_id,
    name: row.name,
    specialUse: row.special_use,
    subscribed,
    uidValidity: row.uidvalidity,
    uidNext: row.uidnext,
    highestModseq: row.highest_modseq,
    messages: row.message_count,
    unseen: counts.unseen,
    deleted: counts.deleted,
    size: row.total_size,
    digest: row.digest,
  };
}

/** The checksum a message row should carry, recomputed from its fields (invariant 3). */
export function rowChecksum(mailboxObjectId: string, row: MessageRow): string {
  return recordChecksum({
    mailboxId: mailboxObjectId,
    uid: row.uid,
    blobHash: row.blob_hash,
    flags: decodeFlags(row.flags),
    internalDate: row.internal_date,
    saveDate: row.save_date,
    modseq: row.modseq,
    emailId: row.email_id,
    threadId: row.thread_id,
  });
}

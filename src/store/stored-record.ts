// A message record as every engine stores it, with the checksum it carries
// (invariant 3). The field names are the schema's columns, which read alike on
// every engine; `flags` is the stored encoding (src/store/flags.ts).
import { decodeFlags } from './flags.js';
import { recordChecksum } from './record-checksum.js';

export interface StoredRecord {
  uid: number;
  blob_hash: string;
  size: number;
  internal_date: number;
  save_date: number;
  flags: string;
  modseq: number;
  email_id: string;
  thread_id: string;
  checksum: string;
}

/** The checksum the record should carry, recomputed from its fields and its mailbox's MAILBOXID. */
export function storedRecordChecksum(mailboxObjectId: string, record: StoredRecord): string {
  return recordChecksum({
    mailboxId: mailboxObjectId,
    uid: record.uid,
    blobHash: record.blob_hash,
    flags: decodeFlags(record.flags),
    internalDate: record.internal_date,
    saveDate: record.save_date,
    modseq: record.modseq,
    emailId: record.email_id,
    threadId: record.thread_id,
  });
}

// A store opened read-only at a path — a backup's snapshot, a second data folder,
// the other side of a compare, a damaged database set aside — through which
// integrity/ reads it without knowing the engine. Nothing here writes.
import type { StoredRecord } from './stored-record.js';

export interface MailboxSummary {
  account: string;
  name: string;
  /** MAILBOXID: the same in a store and its copies, whatever the mailbox is called. */
  id: string;
  uidValidity: number;
  messages: number;
  storedDigest: string;
  computedDigest: string;
  /** UIDs whose fields no longer hash to their stored checksum. */
  corruptRecords: number[];
}

/** A blob's metadata as a copy holds it (what repair needs to re-create a lost one). */
export interface CopiedBlobRow {
  hash: string;
  size: number;
  structure: string;
  created_at: number;
}

/** One queued outbound message, with each recipient's state (what a restored queue must reproduce). */
export interface QueuedMessage {
  id: number;
  blobHash: string;
  sender: string;
  expiresAt: number;
  /** Sorted by address. */
  recipients: { address: string; state: string; attempts: number }[];
}

/** A record together with where it belongs: its mailbox's MAILBOXID and its account's login. */
export interface LocatedRecord extends StoredRecord {
  mailbox_object_id: string;
  login: string;
}

export interface StoreSnapshot {
  /** Mailbox `mailboxObjectId`'s records that carry `checksum` (unverified: the caller checks them). */
  recordsWithChecksum(mailboxObjectId: string, checksum: string): StoredRecord[];
  /** The record at that UID (unverified), or null. */
  recordAt(mailboxObjectId: string, uid: number): StoredRecord | null;
  blobRow(hash: string): CopiedBlobRow | null;
  /** Every mailbox with its stored digest and the one recomputed from its records (invariant 3). */
  summarizeMailboxes(): MailboxSummary[];
  /** A mailbox's records by UID, unverified (compare lists what differs). */
  recordsOf(mailboxObjectId: string): Map<number, StoredRecord>;
  /** Every record with its mailbox and account (re-linking mail a backup lacks). */
  allRecords(): LocatedRecord[];
  queuedMessages(): QueuedMessage[];
  /** The engine's own structural check of what it holds: empty when sound. */
  structureProblems(): string[];
  close(): void;
}

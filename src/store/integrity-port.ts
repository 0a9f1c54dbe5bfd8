// What integrity/ (audit, repair, scrub, backup, restore) needs from an open store,
// in terms every engine can answer: the records with their stored checksums, the
// derived values recomputed against them, referenced and present blobs, the
// engine's own structural check, and a snapshot for a backup. Each engine
// implements it beside its own files; nothing here names one.
import type { Logger } from '../log.js';
import type { BlobCopy } from './blob-copy.js';
import type { MailboxSummary, CopiedBlobRow } from './store-snapshot.js';
import type { StoredRecord } from './stored-record.js';

/** Something the store found wrong about itself. */
export interface StoreFinding {
  kind: string;
  severity: 'error' | 'notice';
  where: string;
  detail: string;
}

/** A stored derived value that disagrees with its recomputation. */
export interface Inconsistency {
  kind: string;
  where: string;
  stored: string | number;
  computed: string | number;
  /** Ids of what disagrees, so a repair can act on it without parsing `where`. */
  location?: { accountId?: number; mailboxId?: number; uid?: number; blobHash?: string };
  /** Said instead of "stored …, recomputed …" where there is nothing to recompute (a damaged value). */
  detail?: string;
}

/** A blob file that no record points to (never deleted: it is mail whose record was lost). */
export interface OrphanBlob {
  hash: string;
  /** `file`: no metadata either (its transaction was lost); `row`: metadata whose references are gone. */
  kind: 'file' | 'row';
  /** The file's modification time: when it was written, which recovery keeps as INTERNALDATE. */
  modifiedAt: Date;
}

/** A blob the audit checks: those the store knows of plus hashes records name without metadata. */
export interface ScopedBlob {
  hash: string;
  size: number;
  /** False for a blob awaiting garbage collection: its file may already be gone, and nothing needs it. */
  referenced: boolean;
}

export interface StructureProblem extends StoreFinding {
  /** Set when repair was asked for: whether the stored structure now holds proven values. */
  repaired?: boolean;
}

/** Where repair may take an original record or a lost blob's metadata from: a verified copy of the store. */
export interface RecordSource {
  /** The record in mailbox `mailboxObjectId` whose verified checksum is `checksum`, or null. */
  findRecordByChecksum(mailboxObjectId: string, checksum: string): StoredRecord | null;
  /** The verified record at that UID, or null. */
  findRecordByUid(mailboxObjectId: string, uid: number): StoredRecord | null;
  blobRow(hash: string): CopiedBlobRow | null;
}

/** What a backup's snapshot holds, read back from the snapshot itself (so it is the moment of the snapshot). */
export interface SnapshotContents {
  schemaVersion: number;
  /** Blobs something refers to, by hash. */
  blobs: { hash: string; size: number }[];
  /** The outbound queue's message files. */
  queued: { hash: string; size: number }[];
  mailboxes: MailboxSummary[];
}

/** An account the audit is limited to (an engine's own key for it). */
export type AccountScope = number;

export interface IntegrityPort {
  readonly log: Logger;
  /** The data folder (the spool and the queue live in it too). */
  readonly dataDirectory: string;
  /** The primary blob copy; a mirrored store reads and writes its mirrors through it. */
  readonly blobs: BlobCopy;
  /** The configured mirrors (empty without). */
  readonly blobMirrors: readonly BlobCopy[];
  /** The outbound queue's message files (only the queue writes them). */
  readonly queueFiles: BlobCopy;
  /** Where findings about the metadata itself point (the database file's name). */
  readonly metadataName: string;

  /** Waits until every write in flight is durable, so what is read next is settled. */
  settle(): Promise<void>;
  /** True while a write of this blob is in flight (it is neither orphan nor garbage). */
  isWriting(hash: string): boolean;
  /** Holds a blob as a write in flight, so the store's clean-up never removes it meanwhile. */
  holdBlob(hash: string): void;
  releaseBlob(hash: string): void;
  /** True when an error says the metadata itself is damaged (restore it from a backup). */
  isDamage(error: unknown): boolean;

  /** The account's key; NotFound when there is none. */
  findAccount(login: string): AccountScope;
  /** The engine's own structural check (pages, indexes, references). */
  checkMetadata(): StoreFinding[];
  findInconsistencies(account?: AccountScope): Inconsistency[];
  /** Puts back records that fail their checksum from copies; returns what became of each it looked at. */
  repairRecords(inconsistencies: readonly Inconsistency[], copies: readonly RecordSource[]): Promise<Map<Inconsistency, 'repaired' | 'unrepaired'>>;
  /** Every derived value recomputed from its source and written back (never lowering UIDNEXT or HIGHESTMODSEQ). */
  rebuildDerivedValues(account?: AccountScope): Promise<void>;
  blobsInScope(account?: AccountScope): ScopedBlob[];
  findOrphanBlobs(graceMilliseconds: number): Promise<OrphanBlob[]>;
  checkStructures(options: { accountId?: AccountScope; repair: boolean }): Promise<StructureProblem[]>;
  countScope(account?: AccountScope): { accounts: number; mailboxes: number; records: number };
  /** Every mailbox with stored and recomputed digest. */
  summarizeMailboxes(): MailboxSummary[];

  /** Total bytes of the blobs the store knows of (the scrub's pace). */
  blobBytes(): number;
  /** The next blobs after `after` in hash order (the scrub's cursor). */
  blobPage(after: string, limit: number): { hash: string; size: number }[];
  /** True when the store still knows the blob (the garbage collector may have removed it). */
  knowsBlob(hash: string): boolean;

  /** Every queued message file, with the ids of the queued messages using it. */
  queuedFiles(): { hash: string; size: number; ids: string }[];
  isQueued(hash: string): boolean;

  /** Writes a consistent snapshot of the metadata to `file` while the store keeps running. */
  writeSnapshot(file: string): Promise<SnapshotContents>;
  /** True when a message with that EMAILID is in the mailbox. */
  holdsMessage(mailboxObjectId: string, emailId: string): boolean;
  /** Hashes of every blob the store has metadata for (referenced or awaiting collection). */
  knownBlobHashes(): Set<string>;
}

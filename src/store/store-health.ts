// What the server's readiness probe and its metrics ask of a store, whichever
// engine is underneath: can it take writes, how much does it hold, and how far
// behind is the outbound queue. Nothing here names an account.

export interface StoreHealth {
  /** Why every write is refused (a failed log fsync latches it until a restart), or null when writes are taken. */
  writesRefused: string | null;
  /** Messages stored in every account's mailboxes (expunged ones kept for undelete excluded). */
  messages: number;
  /** Bytes of the metadata (the database's pages). */
  databaseBytes: number;
  /** Bytes of the distinct message blobs (each stored once, however many mailboxes hold it). */
  blobBytes: number;
  /** Outbound messages with at least one recipient still to be tried. */
  queuedMessages: number;
  /** When the oldest of those was queued; null when the queue is empty. */
  oldestQueuedAt: Date | null;
}

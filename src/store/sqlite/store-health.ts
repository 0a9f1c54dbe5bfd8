// The SQLite engine's answer to StoreHealth: every figure comes from a counter
// the store keeps (mailboxes.message_count), a pragma, or a sum over the blob rows
// (one per distinct message) and the queued recipients: a scrape never scans messages.
import type { StoreHealth } from '../store-health.js';
import type { StoreContext } from './context.js';

export function readStoreHealth(context: StoreContext): StoreHealth {
  const { ledger, db } = context;
  const messages = ledger.sql('SELECT coalesce(sum(message_count), 0) AS n FROM mailboxes').get() as { n: number };
  const blobs = ledger.sql('SELECT coalesce(sum(size), 0) AS n FROM blobs').get() as { n: number };
  const pageCount = Number(db.pragma('page_count', { simple: true }));
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const queue = ledger
    .sql(
      `SELECT count(*) AS n, min(created_at) AS oldest FROM outbound_messages
       WHERE id IN (SELECT message_id FROM outbound_recipients WHERE state = 'queued')`,
    )
    .get() as { n: number; oldest: number | null };
  return {
    writesRefused: context.commit.refusal,
    messages: messages.n,
    databaseBytes: pageCount * pageSize,
    blobBytes: blobs.n,
    queuedMessages: queue.n,
    oldestQueuedAt: queue.oldest === null ? null : new Date(queue.oldest),
  };
}

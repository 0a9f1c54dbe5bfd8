// Blob files that no record points to. The store releases a blob only one way —
// its last reference removed, then garbage collection deletes the row and records
// the hash in collected_blobs before removing the file — so any other unreferenced
// file is evidence of records that were lost (a write the disk confirmed and then
// lost, a damaged page) or of a delivery that stopped before it was acknowledged.
// Neither can be told from the other, and both are mail: audit reports each one as
// an error and `--recover-to` files it as a new message; nothing deletes it.
import * as fs from 'node:fs/promises';
import type { StoreContext } from './context.js';
import { isBlobHash } from './row-damage.js';

export interface OrphanBlob {
  hash: string;
  /** `file`: no blobs row either (its transaction was lost); `row`: a blobs row whose references are gone. */
  kind: 'file' | 'row';
  /** The file's modification time: when it was written, which recovery keeps as INTERNALDATE. */
  modifiedAt: Date;
}

export interface OrphanSearch {
  /**
   * A blob file this young may belong to a delivery another process (the server)
   * is committing right now: it is looked at again once it is this old.
   */
  graceMilliseconds: number;
  /** How the search waits for the grace to pass (a test may hurry it). */
  sleep?: (milliseconds: number) => Promise<void>;
  now?: () => number;
}

export async function findOrphanBlobs(context: StoreContext, search: OrphanSearch): Promise<OrphanBlob[]> {
  const now = search.now ?? Date.now;
  const sleep = search.sleep ?? ((milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds)));
  let candidates: OrphanBlob[] = [];
  const unreleased = unreleasedHashes(context);
  for await (const hash of context.blobs.list()) {
    const kind = unreleased(hash);
    if (!kind || context.blobsInFlight.has(hash)) continue;
    const modifiedAt = await fs.stat(context.blobs.pathOf(hash)).then(
      (stat) => stat.mtime,
      () => null,
    );
    if (modifiedAt) candidates.push({ hash, kind, modifiedAt });
  }
  // The youngest candidates wait out the grace once, together; then the database is read
  // again, so a delivery that committed meanwhile is no longer a candidate.
  const youngest = candidates.reduce((latest, candidate) => Math.max(latest, candidate.modifiedAt.getTime()), -Infinity);
  const wait = youngest + search.graceMilliseconds - now();
  if (candidates.length > 0 && wait > 0) {
    await sleep(Math.min(wait, search.graceMilliseconds));
    const again = unreleasedHashes(context);
    candidates = candidates.filter((candidate) => again(candidate.hash) !== null && !context.blobsInFlight.has(candidate.hash));
  }
  return candidates;
}

/**
 * What the database says about each hash, read once: null for a blob that is
 * referenced, released by the store (refcount 0, awaiting collection) or already
 * collected; otherwise which kind of orphan its file would be.
 */
function unreleasedHashes(context: StoreContext): (hash: string) => OrphanBlob['kind'] | null {
  const referenced = new Set<string>();
  for (const row of context.db.prepare('SELECT blob_hash AS hash FROM messages UNION SELECT blob_hash FROM expunged').iterate() as IterableIterator<{ hash: unknown }>) {
    if (isBlobHash(row.hash)) referenced.add(row.hash);
  }
  const rows = new Map<string, number>();
  for (const row of context.db.prepare('SELECT hash, refcount FROM blobs').iterate() as IterableIterator<{ hash: unknown; refcount: unknown }>) {
    if (isBlobHash(row.hash)) rows.set(row.hash, typeof row.refcount === 'number' ? row.refcount : 1);
  }
  const collected = new Set((context.db.prepare('SELECT hash FROM collected_blobs').all() as { hash: string }[]).map((row) => row.hash));
  return (hash) => {
    if (referenced.has(hash) || collected.has(hash)) return null;
    const refcount = rows.get(hash);
    if (refcount === undefined) return 'file';
    // Only the store lowers a refcount to 0 (the last reference removed by expunge past
    // retention or by a move): that blob is garbage. A positive one without references
    // means the references went without the store: lost records.
    return refcount <= 0 ? null : 'row';
  };
}

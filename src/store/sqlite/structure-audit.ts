// Audit's check of what blob rows derive from their messages (structure, size):
// every row in scope against its checksum and against a fresh parse of its blob,
// and, with repair, the row rewritten from that parse. The blob is read straight
// from its file and hashed on the way, so a bad blob is left where it lies (the
// blob check reports and quarantines it, not this one).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createStructureParser } from '../../mime/structure.js';
import type { StoreContext } from './context.js';
import { isBlobHash } from './row-damage.js';
import { rewriteBlobRow, storedStructureState, type BlobStructureRow } from './structure-guard.js';

export interface StructureProblem {
  /** `blob.structure_checksum`, `blob.structure_differs`, or the notice `blob.structure_unverified`. */
  kind: string;
  severity: 'error' | 'notice';
  where: string;
  detail: string;
  /** Set when repair was asked for: whether the row now holds proven values. */
  repaired?: boolean;
}

export interface StructureAuditOptions {
  /** Only the blobs this account's records (and retained expunges) use. */
  accountId?: number;
  repair: boolean;
  /** Blobs parsed at once (default 4). */
  concurrency?: number;
}

/** Rows rewritten per transaction: better-sqlite3 is synchronous, so a huge one would stall the process. */
const rewriteBatch = 200;

export async function auditStructures(context: StoreContext, options: StructureAuditOptions): Promise<{ problems: StructureProblem[]; rows: number }> {
  const hashes = blobHashesInScope(context, options.accountId);
  const problems: StructureProblem[] = [];
  // Written in batches as the scan goes, so memory holds at most a batch of structures.
  let rewrites: { hash: string; size: number; text: string; problem: StructureProblem | null }[] = [];
  const flush = async () => {
    const batch = rewrites;
    rewrites = [];
    if (batch.length === 0) return;
    const written = await context.write(() => {
      for (const rewrite of batch) rewriteBlobRow(context, rewrite.hash, rewrite);
    }).then(
      () => true,
      () => false,
    );
    for (const rewrite of batch) if (rewrite.problem) rewrite.problem.repaired = written;
    if (!written) unrepairable++;
  };
  let unverified = 0;
  let unrepairable = 0;
  let next = 0;
  const read = context.ledger.sql('SELECT size, structure, structure_checksum FROM blobs WHERE hash = ?');
  const worker = async () => {
    while (next < hashes.length) {
      const hash = hashes[next++]!;
      // A damaged hash names no file: the row-damage check reports it.
      if (!isBlobHash(hash) || context.blobsInFlight.has(hash)) continue;
      const row = read.get(hash) as BlobStructureRow | undefined;
      if (!row) continue;
      const state = storedStructureState(hash, row);
      const derived = await parseVerifiedFile(context.blobs.pathOf(hash), hash);
      const same = derived !== null && derived.text === row.structure && derived.size === row.size;
      if (state === 'proven' && (same || derived === null)) continue; // an unreadable blob is the blob check's finding
      if (state === 'unverified' && same) {
        unverified++;
        if (options.repair) rewrites.push({ hash, ...derived, problem: null });
        continue;
      }
      if (state === 'unverified' && derived === null) continue;
      const sizeNote = derived !== null && derived.size !== row.size ? ` (size stored ${row.size}, blob ${derived.size})` : '';
      const problem: StructureProblem =
        state === 'mismatch'
          ? {
              kind: 'blob.structure_checksum',
              severity: 'error',
              where: hash,
              detail:
                `the stored structure and size fail their checksum${sizeNote}` +
                (derived === null ? '; the blob cannot be read to re-derive them' : same ? '; they match a fresh parse of the blob (the checksum itself is damaged)' : '; they differ from a fresh parse of the blob'),
            }
          : {
              kind: 'blob.structure_differs',
              severity: 'error',
              where: hash,
              detail:
                (state === 'proven'
                  ? 'the stored structure passes its checksum but differs from a fresh parse of the blob (written by an earlier parser, or damaged before it was checksummed)'
                  : 'the stored structure has no checksum yet (written before schema version 4) and differs from a fresh parse of the blob') + sizeNote,
            };
      problems.push(problem);
      if (options.repair) {
        if (derived === null) problem.repaired = false;
        else rewrites.push({ hash, ...derived, problem });
      }
      if (rewrites.length >= rewriteBatch) await flush();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  await flush();
  if (unverified > 0) {
    problems.push({
      kind: 'blob.structure_unverified',
      severity: 'notice',
      where: `${unverified} blob row(s)`,
      detail: options.repair
        ? 'written before schema version 4 without a checksum; each matches a fresh parse of its blob, and now carries its checksum'
        : 'written before schema version 4 without a checksum; each matches a fresh parse of its blob (`audit --repair`, or the first read, records the checksum)',
      ...(options.repair ? { repaired: unrepairable === 0 } : {}),
    });
  }
  return { problems, rows: hashes.length };
}

function blobHashesInScope(context: StoreContext, accountId: number | undefined): string[] {
  const rows =
    accountId === undefined
      ? context.ledger.sql('SELECT hash FROM blobs ORDER BY hash').all()
      : context.ledger
          .sql(
            `SELECT hash FROM blobs WHERE hash IN (
               SELECT blob_hash FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.account_id = ?
               UNION SELECT blob_hash FROM expunged WHERE account_id = ?) ORDER BY hash`,
          )
          .all(accountId, accountId);
  return (rows as { hash: string }[]).map((row) => row.hash);
}

/** One pass over the file: parsed and hashed together; null when it is missing or its bytes are not the blob's. */
async function parseVerifiedFile(file: string, hash: string): Promise<{ size: number; text: string } | null> {
  const parser = createStructureParser();
  const hasher = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
      hasher.update(chunk as Buffer);
      await parser.write(chunk as Buffer);
    }
  } catch {
    return null;
  }
  const structure = await parser.finish();
  if (hasher.digest('hex') !== hash) return null;
  return { size: structure.size, text: JSON.stringify(structure) };
}

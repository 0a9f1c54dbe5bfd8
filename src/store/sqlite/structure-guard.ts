// Invariant 2 on the read path for what is derived from a message: a blob row's
// structure and size are served only once proven, by their checksum or by parsing
// the verified blob again. A row that fails is never served: the re-derived values
// are, the row is rewritten with them (one commit at the end of the read), and the
// event is logged as `integrity.structure_mismatch` (an integrity.* event, so it
// reaches the security log too).
import { IntegrityError } from '../../errors.js';
import { parseStructure, type MessageStructure } from '../../mime/structure.js';
import { structureChecksum } from '../structure-checksum.js';
import type { StoreContext } from './context.js';
import type { MailboxRow, MessageRow } from './rows.js';

export interface BlobStructureRow {
  size: number;
  structure: string;
  /** NULL for a row written before schema version 4: not proven yet. */
  structure_checksum: string | null;
}

/** `proven`: the checksum matches; `mismatch`: it does not; `unverified`: there is none yet. */
export type StoredStructureState = 'proven' | 'mismatch' | 'unverified';

export function storedStructureState(blobHash: string, row: BlobStructureRow): StoredStructureState {
  // A damaged page can hold values of any type, whatever the STRICT table promised.
  if (typeof row.structure !== 'string' || !Number.isSafeInteger(row.size)) return 'mismatch';
  if (row.structure_checksum === null) return 'unverified';
  return row.structure_checksum === structureChecksum(blobHash, row.size, row.structure) ? 'proven' : 'mismatch';
}

export interface DerivedValues {
  size: number;
  /** The structure as it is stored (JSON), the form its checksum covers. */
  text: string;
  structure: MessageStructure;
}

/**
 * Parses the blob again, read verified (a mirror heals a bad primary copy on the
 * way): the source of truth for everything its row derives. Throws IntegrityError
 * when no intact copy of the blob can be read.
 */
export async function deriveFromBlob(context: StoreContext, blobHash: string): Promise<DerivedValues> {
  const stream = await context.blobs.open(blobHash);
  let structure: MessageStructure;
  try {
    structure = await parseStructure(stream);
  } catch (error) {
    // A large blob's second hashing pass failed mid-stream: the file changed under us.
    if (error instanceof IntegrityError) throw error;
    throw new IntegrityError(`the blob ${blobHash} could not be read again: ${(error as Error).message}`, blobHash);
  }
  return { size: structure.size, text: JSON.stringify(structure), structure };
}

/** Puts re-derived values (and their checksum) in place of a row's stored ones; inside a transaction. */
export function rewriteBlobRow(context: StoreContext, blobHash: string, derived: Pick<DerivedValues, 'size' | 'text'>): void {
  context.ledger
    .sql('UPDATE blobs SET size = ?, structure = ?, structure_checksum = ? WHERE hash = ?')
    .run(derived.size, derived.text, structureChecksum(blobHash, derived.size, derived.text), blobHash);
}

export interface ProvenValues {
  size: number;
  /** Present when asked for. */
  structure?: MessageStructure;
}

/** A blob row's values once proven; null when they cannot be. */
type ProvenBlob = { size: number; structure: MessageStructure } | null;

/**
 * Proves the derived values of the records one fetch() hands out. Without the
 * structure, a record whose size equals its blob row's is taken as it is (two
 * independent bit flips would have to agree); any disagreement is settled by the
 * checksum, and failing that by the blob.
 */
export class StructureGuard {
  private readonly proven = new Map<string, ProvenBlob | Promise<ProvenBlob>>();
  private readonly blobRewrites = new Map<string, DerivedValues>();
  private readonly sizeRewrites: { mailboxId: number; uid: number; blobHash: string; size: number }[] = [];

  constructor(
    private readonly context: StoreContext,
    private readonly login: string,
    private readonly mailbox: MailboxRow,
  ) {}

  /**
   * The record's size and (if asked) structure, proven; null when they cannot be (the
   * blob is unreadable too). Synchronous unless the blob must be parsed again: a
   * FETCH of thousands of records should not pay a promise per record.
   */
  check(row: MessageRow, withStructure: boolean): ProvenValues | null | Promise<ProvenValues | null> {
    if (!withStructure) {
      // pluck: the bare number, no row object (this runs once per record of every FETCH).
      const blobSize = this.context.ledger.sql('SELECT size FROM blobs WHERE hash = ?').pluck().get(row.blob_hash) as number | undefined;
      if (blobSize === row.size) return { size: row.size };
    }
    let values = this.proven.get(row.blob_hash);
    if (values === undefined) {
      values = this.blobValues(row);
      this.proven.set(row.blob_hash, values);
    }
    return values instanceof Promise ? values.then((proven) => this.settle(row, proven, withStructure)) : this.settle(row, values, withStructure);
  }

  private settle(row: MessageRow, proven: ProvenBlob, withStructure: boolean): ProvenValues | null {
    if (proven === null) return null;
    if (proven.size !== row.size) {
      this.mismatch(row, 'record size', { stored: row.size, derived: proven.size });
      this.sizeRewrites.push({ mailboxId: row.mailbox_id, uid: row.uid, blobHash: row.blob_hash, size: proven.size });
    }
    return withStructure ? proven : { size: proven.size };
  }

  /** Writes what was re-derived, in one commit. A refused write (a full disk) leaves the row for the next read or audit. */
  async flush(): Promise<void> {
    if (this.blobRewrites.size === 0 && this.sizeRewrites.length === 0) return;
    const blobs = [...this.blobRewrites];
    const sizes = this.sizeRewrites.splice(0);
    this.blobRewrites.clear();
    try {
      await this.context.write(() => {
        for (const [blobHash, derived] of blobs) rewriteBlobRow(this.context, blobHash, derived);
        // The record checksum does not cover the size, so nothing else changes with it.
        const update = this.context.ledger.sql('UPDATE messages SET size = ? WHERE mailbox_id = ? AND uid = ? AND blob_hash = ?');
        for (const entry of sizes) update.run(entry.size, entry.mailboxId, entry.uid, entry.blobHash);
      });
    } catch (error) {
      this.context.log.warn('store.structure_rewrite_failed', { login: this.login, mailbox: this.mailbox.name, blobs: blobs.length, records: sizes.length, error: String(error) });
    }
  }

  private blobValues(row: MessageRow): ProvenBlob | Promise<ProvenBlob> {
    const hash = row.blob_hash;
    const stored = this.context.ledger.sql('SELECT size, structure, structure_checksum FROM blobs WHERE hash = ?').get(hash) as BlobStructureRow | undefined;
    const state = stored ? storedStructureState(hash, stored) : 'mismatch';
    if (stored && state === 'proven') {
      try {
        return { size: stored.size, structure: JSON.parse(stored.structure) as MessageStructure };
      } catch {
        // Checksummed but not JSON: only a bug could write that; the blob settles it.
      }
    }
    return this.rederive(row, stored, state);
  }

  private async rederive(row: MessageRow, stored: BlobStructureRow | undefined, state: StoredStructureState): Promise<ProvenBlob> {
    const hash = row.blob_hash;
    let derived: DerivedValues;
    try {
      derived = await deriveFromBlob(this.context, hash);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      // Unproven and underivable: withheld, like a record that fails its checksum.
      if (state !== 'unverified') this.mismatch(row, stored ? 'structure' : 'blob row missing', { served: false });
      return null;
    }
    const same = stored !== undefined && derived.text === stored.structure && derived.size === stored.size;
    if (state === 'unverified' && same) {
      // Written before checksums existed, and proven right by the blob: record its checksum.
      this.blobRewrites.set(hash, derived);
      return derived;
    }
    this.mismatch(row, stored ? 'structure' : 'blob row missing', {
      checksum: state,
      ...(stored && stored.size !== derived.size ? { storedSize: stored.size, derivedSize: derived.size } : {}),
      served: 're-derived',
    });
    // A missing row is the foreign-key check's to report (audit); it cannot be rewritten here.
    if (stored) this.blobRewrites.set(hash, derived);
    return derived;
  }

  private mismatch(row: MessageRow, part: string, fields: Record<string, unknown>): void {
    this.context.log.error('integrity.structure_mismatch', { login: this.login, mailbox: this.mailbox.name, uid: row.uid, blob: row.blob_hash, part, ...fields });
  }
}

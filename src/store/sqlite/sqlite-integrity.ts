// The SQLite store's side of the integrity port: what audit, scrub, backup and
// restore ask of an open store, answered from the database and the blob files.
import Database from 'better-sqlite3';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NotFound } from '../../errors.js';
import type { FileBlobStore } from '../blobs/file-blob-store.js';
import { MirroredBlobStore } from '../blobs/mirrored-blob-store.js';
import type { AccountScope, Inconsistency, IntegrityPort, OrphanBlob, RecordSource, ScopedBlob, SnapshotContents, StoreFinding, StructureProblem } from '../integrity-port.js';
import type { MailboxSummary } from '../store-snapshot.js';
import { findInconsistencies } from './consistency.js';
import type { StoreContext } from './context.js';
import { rebuildDerivedValues } from './derived-values.js';
import { summarizeMailboxes } from './mailbox-summary.js';
import { findOrphanBlobs } from './orphan-blobs.js';
import { repairRecords } from './record-repair.js';
import { auditStructures } from './structure-audit.js';
import { databaseFileName } from './sqlite-store.js';

export class SqliteIntegrity implements IntegrityPort {
  readonly dataDirectory: string;
  readonly blobMirrors: readonly FileBlobStore[];
  readonly metadataName = databaseFileName;

  constructor(
    private readonly context: StoreContext,
    readonly queueFiles: FileBlobStore,
  ) {
    this.dataDirectory = path.dirname(context.blobs.root);
    this.blobMirrors = context.blobs instanceof MirroredBlobStore ? context.blobs.mirrors : [];
  }

  get log() {
    return this.context.log;
  }

  get blobs(): FileBlobStore {
    return this.context.blobs;
  }

  settle(): Promise<void> {
    return this.context.commit.idle();
  }

  isWriting(hash: string): boolean {
    return this.context.blobsInFlight.has(hash);
  }

  holdBlob(hash: string): void {
    this.context.holdBlob(hash);
  }

  releaseBlob(hash: string): void {
    this.context.releaseBlob(hash);
  }

  /** SQLITE_CORRUPT (and its extended codes) from a page read midway, or a file that is no database. */
  isDamage(error: unknown): boolean {
    const code = (error as { code?: unknown })?.code;
    return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
  }

  findAccount(login: string): AccountScope {
    const row = this.context.ledger.sql('SELECT id FROM accounts WHERE login = ?').get(login.trim()) as { id: number } | undefined;
    if (!row) throw new NotFound(`there is no account ${JSON.stringify(login)}`);
    return row.id;
  }

  /** SQLite's own view: page structure and indexes (integrity_check), then references (foreign_key_check). */
  checkMetadata(): StoreFinding[] {
    const findings: StoreFinding[] = [];
    const readOrReport = (read: () => void) => {
      try {
        read();
      } catch (error) {
        findings.push({ kind: 'database.unreadable', severity: 'error', where: databaseFileName, detail: `${(error as Error).message}: restore the database from a backup` });
      }
    };
    readOrReport(() => {
      const lines = this.context.db.pragma('integrity_check') as { integrity_check: string }[];
      for (const { integrity_check: line } of lines) {
        if (line !== 'ok') findings.push({ kind: 'database.integrity', severity: 'error', where: databaseFileName, detail: `${line}: restore the database from a backup` });
      }
    });
    readOrReport(() => {
      const rows = this.context.db.pragma('foreign_key_check') as { table: string; rowid: number | null; parent: string; fkid: number }[];
      for (const row of rows) {
        findings.push({ kind: 'database.foreign_key', severity: 'error', where: `${row.table}${row.rowid === null ? '' : ` row ${row.rowid}`}`, detail: `refers to a missing ${row.parent} row` });
      }
    });
    return findings;
  }

  findInconsistencies(account?: AccountScope): Inconsistency[] {
    return findInconsistencies(this.context, { accountId: account });
  }

  async repairRecords(inconsistencies: readonly Inconsistency[], copies: readonly RecordSource[]): Promise<Map<Inconsistency, 'repaired' | 'unrepaired'>> {
    const outcomes = new Map<Inconsistency, 'repaired' | 'unrepaired'>();
    await this.context.write(() => repairRecords(this.context, inconsistencies, copies, outcomes));
    return outcomes;
  }

  rebuildDerivedValues(account?: AccountScope): Promise<void> {
    return this.context.write(() => rebuildDerivedValues(this.context, account));
  }

  /** The blob rows in scope plus hashes records name without a row (so a missing row's file is still checked). */
  blobsInScope(account?: AccountScope): ScopedBlob[] {
    if (account === undefined) {
      return this.context.db
        .prepare(
          `SELECT hash, size, hash IN (SELECT blob_hash FROM messages UNION SELECT blob_hash FROM expunged) AS referenced FROM blobs
           UNION SELECT blob_hash, size, 1 FROM messages WHERE blob_hash NOT IN (SELECT hash FROM blobs)
           UNION SELECT blob_hash, size, 1 FROM expunged WHERE blob_hash NOT IN (SELECT hash FROM blobs)`,
        )
        .all()
        .map((row) => ({ ...(row as { hash: string; size: number }), referenced: (row as { referenced: number }).referenced === 1 }));
    }
    const rows = this.context.db
      .prepare(
        `SELECT blob_hash AS hash, size FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)
         UNION SELECT blob_hash, size FROM expunged WHERE account_id = ?`,
      )
      .all(account, account) as { hash: string; size: number }[];
    // One entry per hash even when two records disagree about the size.
    return [...new Map(rows.map((row) => [row.hash, { ...row, referenced: true }])).values()];
  }

  findOrphanBlobs(graceMilliseconds: number): Promise<OrphanBlob[]> {
    return findOrphanBlobs(this.context, { graceMilliseconds });
  }

  async checkStructures(options: { accountId?: AccountScope; repair: boolean }): Promise<StructureProblem[]> {
    await this.context.commit.idle();
    return (await auditStructures(this.context, options)).problems;
  }

  countScope(account?: AccountScope): { accounts: number; mailboxes: number; records: number } {
    const { db } = this.context;
    const filter = account === undefined ? '' : 'WHERE account_id = ?';
    const parameters = account === undefined ? [] : [account];
    return {
      accounts: account === undefined ? (db.prepare('SELECT count(*) AS n FROM accounts').get() as { n: number }).n : 1,
      mailboxes: (db.prepare(`SELECT count(*) AS n FROM mailboxes ${filter}`).get(...parameters) as { n: number }).n,
      records: (db.prepare(`SELECT count(*) AS n FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes ${filter})`).get(...parameters) as { n: number }).n,
    };
  }

  summarizeMailboxes(): MailboxSummary[] {
    return summarizeMailboxes(this.context.db);
  }

  blobBytes(): number {
    return (this.context.db.prepare('SELECT coalesce(sum(size), 0) AS bytes FROM blobs').get() as { bytes: number }).bytes;
  }

  blobPage(after: string, limit: number): { hash: string; size: number }[] {
    return this.context.db.prepare('SELECT hash, size FROM blobs WHERE hash > ? ORDER BY hash LIMIT ?').all(after, limit) as { hash: string; size: number }[];
  }

  knowsBlob(hash: string): boolean {
    return this.context.db.prepare('SELECT 1 FROM blobs WHERE hash = ?').get(hash) !== undefined;
  }

  queuedFiles(): { hash: string; size: number; ids: string }[] {
    return this.context.ledger
      .sql('SELECT blob_hash AS hash, max(size) AS size, group_concat(id) AS ids FROM outbound_messages GROUP BY blob_hash ORDER BY blob_hash')
      .all() as { hash: string; size: number; ids: string }[];
  }

  isQueued(hash: string): boolean {
    return this.context.ledger.sql('SELECT 1 FROM outbound_messages WHERE blob_hash = ?').get(hash) !== undefined;
  }

  /** SQLite's online backup API, so the server keeps running; the copy is read back for what it holds. */
  async writeSnapshot(file: string): Promise<SnapshotContents> {
    await this.context.commit.idle();
    await fs.rm(file, { force: true });
    await this.context.db.backup(file);
    const snapshot = new Database(file);
    try {
      // One self-contained file: no -wal beside it that a later copy could lose.
      snapshot.pragma('journal_mode = DELETE');
      return {
        schemaVersion: snapshot.pragma('user_version', { simple: true }) as number,
        // Only blobs something refers to: an unreferenced one may be removed by the
        // garbage collector before it is copied, and a restore does not need it.
        blobs: snapshot
          .prepare('SELECT hash, size FROM blobs WHERE hash IN (SELECT blob_hash FROM messages UNION SELECT blob_hash FROM expunged) ORDER BY hash')
          .all() as { hash: string; size: number }[],
        queued: snapshot.prepare('SELECT blob_hash AS hash, max(size) AS size FROM outbound_messages GROUP BY blob_hash ORDER BY blob_hash').all() as { hash: string; size: number }[],
        mailboxes: summarizeMailboxes(snapshot),
      };
    } finally {
      snapshot.close();
    }
  }

  holdsMessage(mailboxObjectId: string, emailId: string): boolean {
    return (
      this.context.db.prepare('SELECT 1 FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? AND messages.email_id = ?').get(mailboxObjectId, emailId) !==
      undefined
    );
  }

  /** Hashes of every blob the store has metadata for. */
  knownBlobHashes(): Set<string> {
    return new Set((this.context.db.prepare('SELECT hash FROM blobs').all() as { hash: string }[]).map((row) => row.hash));
  }
}

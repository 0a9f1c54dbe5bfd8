// Group commit (invariant 1, made fast): every write waits for the next commit,
// and one commit serves every write that arrived while the previous one ran. Each
// write runs in its own savepoint, so one failing (say, over quota) does not undo
// the others that share its transaction.
//
// The fsync that makes a commit durable runs off the main thread. better-sqlite3
// is synchronous, so with synchronous=FULL SQLite fsyncs the WAL inside COMMIT and
// the whole process (every SMTP and IMAP session) stops for it, several
// milliseconds per batch. Instead a batch commits with synchronous=NORMAL (frames
// written, not synced) and the WAL file is then fsynced through libuv's thread
// pool; nothing is resolved (acknowledged) before that fsync returns. Under NORMAL
// SQLite itself still syncs the WAL before every checkpoint, so the database stays
// consistent; other writes on the connection keep synchronous=FULL.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { syncDirectory } from '../../durable-files.js';
import { StoreUnavailable } from '../../errors.js';
import type { Logger } from '../../log.js';
import { reportCommit, reportLogSync } from '../store-timings.js';
import type { SqliteDatabase } from './database.js';

interface PendingWrite {
  work: () => unknown;
  directories: readonly string[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: PendingWrite[] = [];
  private flushing = false;
  /** The WAL file when the database is in WAL mode (the deferred fsync needs it), else null. */
  private readonly walFile: string | null;
  /** Inode of the WAL file whose directory entry is known durable. */
  private walInode: number | null = null;
  /** Set once a WAL fsync failed; from then on every write is refused. */
  private failure: StoreUnavailable | null = null;
  /** The WAL fsync; replaceable so a test can make it fail as a disk would. */
  syncLog: (walFile: string) => Promise<void> = (walFile) => this.syncWal(walFile);

  /**
   * @param grouped false gives one transaction (and one fsync) per write: the
   *   baseline the benchmark compares against.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly syncDirectories: (directories: string[]) => Promise<void>,
    private readonly grouped = true,
    private readonly log?: Logger,
  ) {
    const walMode = !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.walFile = walMode ? `${db.name}-wal` : null;
  }

  /**
   * Runs `work` inside a transaction after the `directories` (holding newly renamed
   * blob files) have been fsynced; resolves once the transaction is durable.
   */
  run<T>(work: () => T, directories: readonly string[] = []): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, directories, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Why writes are refused (the failed log fsync), or null while they are taken: the readiness probe's latch. */
  get refusal(): string | null {
    return this.failure?.message ?? null;
  }

  /** Resolves when everything queued so far has committed. */
  async idle(): Promise<void> {
    while (this.flushing) await new Promise((resolve) => setImmediate(resolve));
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.grouped ? this.queue.splice(0) : this.queue.splice(0, 1);
      const outcomes: { ok: boolean; value: unknown }[] = [];
      if (this.failure !== null) {
        for (const write of batch) write.reject(this.failure);
        continue;
      }
      try {
        await this.syncDirectories(batch.flatMap((write) => write.directories));
        const started = performance.now();
        this.commit(batch, outcomes);
        reportCommit((performance.now() - started) / 1000, batch.length);
      } catch (error) {
        // The commit or a directory fsync failed: nothing in the batch is acknowledged.
        for (const write of batch) write.reject(error);
        continue;
      }
      if (this.walFile !== null) {
        try {
          const started = performance.now();
          await this.syncLog(this.walFile);
          reportLogSync((performance.now() - started) / 1000);
        } catch (error) {
          // After a failed fsync Linux may drop the dirty pages and report the next
          // fsync as a success, so a later batch's "durable" could stand on frames
          // that never reached the disk (and WAL recovery stops at the first gap).
          // Nothing more is acknowledged until a restart, as PostgreSQL does.
          this.failure = new StoreUnavailable(`the database log could not be made durable (${(error as Error).message}); writes are refused until the server is restarted`);
          this.log?.error('integrity.log_sync_failed', { file: this.walFile, error: String(error), refusedWrites: batch.length });
          for (const write of batch) write.reject(this.failure);
          continue;
        }
      }
      batch.forEach((write, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.value);
      });
    }
    this.flushing = false;
  }

  private commit(batch: readonly PendingWrite[], outcomes: { ok: boolean; value: unknown }[]): void {
    const transaction = this.db.transaction(() => {
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, value: this.db.transaction(write.work)() });
        } catch (error) {
          outcomes.push({ ok: false, value: error });
        }
      }
    });
    if (this.walFile === null) return transaction();
    this.db.pragma('synchronous = NORMAL');
    try {
      transaction();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** fdatasync of the WAL (and, when the file is new, of its directory entry), in the thread pool. */
  private async syncWal(walFile: string): Promise<void> {
    const handle = await fs.open(walFile, 'r');
    try {
      await handle.datasync();
      const { ino } = await handle.stat();
      // SQLite syncs a new WAL's directory entry only in its own FULL sync (which this
      // path skips): a WAL created since the last check gets its entry synced here.
      if (ino !== this.walInode) {
        await syncDirectory(path.dirname(walFile));
        this.walInode = ino;
      }
    } finally {
      await handle.close();
    }
  }
}
